"""What scripts/chaos and scripts/compose-check share: the local broker cluster and PostgreSQL
server (through scripts/broker and scripts/postgres), and the govbus executable."""
import os
import subprocess
import sys
import time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def say(who, text):
    print(f"{who}: {text}", file=sys.stderr, flush=True)


def exports(output):
    """The `export NAME=value` lines of a script's output, as a dictionary."""
    values = {}
    for line in output.splitlines():
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export "):].split("=", 1)
            values[name] = value
    return values


def run_script(*arguments, check=True, environment=None):
    result = subprocess.run(["bash", *arguments], cwd=REPOSITORY, capture_output=True, text=True, env=environment)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed: {result.stderr[-2000:]}")
    return result


def read_settings(path):
    """A file of NAME=value lines (node.env, an env_file)."""
    settings = {}
    with open(path) as file:
        for line in file:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                settings[name] = value
    return settings


class Cluster:
    """Broker nodes joined into one cluster, started with scripts/broker start --cluster N."""

    def __init__(self, count, extra_configuration=None):
        environment = dict(os.environ)
        if extra_configuration:
            environment["GOVBUS_BROKER_EXTRA_CONF"] = extra_configuration
        output = run_script("scripts/broker", "start", "--cluster", str(count), environment=environment).stdout
        self.values = exports(output)
        self.folder = self.values["GOVBUS_BROKER_DIR"]
        self.node_folders = self.values["GOVBUS_BROKER_NODE_DIRS"].split(",")

    def node(self, folder):
        settings = read_settings(os.path.join(folder, "node.env"))
        cgroup_file = os.path.join(folder, "cgroup.env")
        if os.path.exists(cgroup_file):
            settings.update(read_settings(cgroup_file))
        return settings

    def pid(self, folder):
        with open(os.path.join(folder, "node.pid")) as file:
            return int(file.read().strip())

    def ctl(self, folder, *arguments, check=False):
        return run_script("scripts/broker", "ctl", folder, *arguments, check=check)

    def stop(self):
        run_script("scripts/broker", "stop", self.folder, check=False)


class Database:
    """A PostgreSQL server of scripts/postgres, fsync on (`--durable`)."""

    def __init__(self):
        self.values = exports(run_script("scripts/postgres", "start", "--durable").stdout)
        self.folder = self.values["GOVBUS_POSTGRES_DIR"]
        self.url = self.values["GOVBUS_STORE"]
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    def pid(self):
        with open(os.path.join(self.folder, "data", "postmaster.pid")) as file:
            return int(file.readline().strip())

    def psql(self, command):
        return run_script("scripts/postgres", "psql", self.folder, "-q", "-c", command)

    def revive(self):
        for _ in range(20):
            if run_script("scripts/postgres", "revive", self.folder, check=False).returncode == 0:
                return
            time.sleep(1)
        raise RuntimeError("PostgreSQL did not start again")

    def stop(self):
        run_script("scripts/postgres", "stop", self.folder, check=False)


def build_govbus(who, release=False):
    """GOVBUS_BIN, or govbus built now (debug, or release)."""
    if os.environ.get("GOVBUS_BIN"):
        return os.environ["GOVBUS_BIN"]
    configuration = ["-c", "release"] if release else []
    say(who, "building govbus")
    subprocess.run(["swift", "build", *configuration, "--product", "govbus"], cwd=REPOSITORY, check=True, stdout=sys.stderr)
    path = subprocess.run(["swift", "build", *configuration, "--show-bin-path"], cwd=REPOSITORY, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "govbus")
