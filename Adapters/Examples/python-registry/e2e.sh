#!/usr/bin/env bash
# The Python registry adapter in the whole stack: `govbus up --external registry=…`, sample
# dossiers through the portal sandbox, then more while the adapter's broker connections are
# closed under it, then a check in the core's audit that every identity request got exactly one
# answer, with the id the Swift adapter would give it. Stops the stack (SIGINT) at the end.
#
#   Adapters/Examples/python-registry/e2e.sh [DOSSIERS]      (default 100; needs .build/debug/govbus)
#
# Environment: GOVBUS (the govbus binary), WORK (default /tmp/pyreg-e2e), PORTS (default 28280),
# VHOST (default pyrege2e). Starts its own RabbitMQ node (scripts/broker): GOVBUS_AMQP_URL and
# GOVBUS_MANAGEMENT_URL are ignored. Exit 0 when every dossier ended and every request was answered once.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repository="$(cd "$here/../../.." && pwd)"
cd "$repository"
govbus="${GOVBUS:-.build/debug/govbus}"
work="${WORK:-/tmp/pyreg-e2e}"
ports="${PORTS:-28280}"
vhost="${VHOST:-pyrege2e}"
dossiers="${1:-100}"
portal="http://127.0.0.1:$((ports + 11))"
say() { echo "e2e: $*" >&2; }

python3 -c 'import pika, cryptography, yaml' 2>/dev/null || {
    say "missing Python packages: pip install -r $here/requirements.txt"
    exit 2
}
say "unit tests"
(cd "$here" && PYTHONDONTWRITEBYTECODE=1 python3 -m unittest -q 2>&1 | tail -1)

started=$(date +%s)
mkdir -p "$(dirname "$work")"
env -u GOVBUS_AMQP_URL -u GOVBUS_MANAGEMENT_URL "$govbus" up --work "$work" --fresh --ports "$ports" --vhost "$vhost" \
    --external "registry=python3 Adapters/Examples/python-registry/adapter.py" >"$work.up.log" 2>&1 &
up=$!
stop() {
    if kill -0 "$up" 2>/dev/null; then
        kill -INT "$up"
        wait "$up" || true
    fi
}
trap stop EXIT
while [ ! -f "$work/ready" ]; do
    if ! kill -0 "$up" 2>/dev/null; then
        say "govbus up ended before the stack was ready:"
        tail -20 "$work.up.log" >&2
        exit 1
    fi
    if [ $(($(date +%s) - started)) -gt 180 ]; then
        say "the stack was not ready within 180 s"
        exit 1
    fi
    sleep 1
done
say "stack ready in $(($(date +%s) - started)) s"

say "$dossiers dossiers"
"$govbus" demo --portal "$portal" --dossiers "$dossiers" --timeout 180 | tail -6

# The broker node govbus up started: the one whose management port its log names.
management_port="$(sed -n 's/.*management API at 127.0.0.1:\([0-9]*\).*/\1/p' "$work.up.log" | head -1)"
broker_dir="$(grep -l "^MANAGEMENT_PORT=$management_port\$" /tmp/govbus-broker.*/node.env 2>/dev/null | head -1 | xargs -r dirname)"
if [ -n "$broker_dir" ]; then
    say "$dossiers more dossiers while the registry adapter's broker connections are closed (node in $broker_dir)"
    # 300 ms a lookup in the registry sandbox: the identity checks last long enough to be cut.
    faults="http://127.0.0.1:$((ports + 12))/_sandbox/faults"
    curl -fsS -X PUT -H 'Content-Type: application/json' -o /dev/null \
        -d '{"latencyMilliseconds":300,"failureRate":0,"timeoutRate":0,"hangSeconds":60}' "$faults"
    "$govbus" demo --portal "$portal" --dossiers "$dossiers" --timeout 180 >"$work.chaos.out" 2>&1 &
    demo=$!
    for _ in 1 2 3; do
        sleep 1
        mapfile -t pids < <(scripts/broker ctl "$broker_dir" list_connections pid user </dev/null 2>/dev/null |
            awk -F'\t' '$2 == "registry" { print $1 }')
        for pid in "${pids[@]}"; do
            scripts/broker ctl "$broker_dir" close_connection "$pid" "e2e: chaos" </dev/null >/dev/null 2>&1 || true
        done
        say "closed ${#pids[@]} connections of the registry adapter"
    done
    wait "$demo"
    tail -6 "$work.chaos.out"
    curl -fsS -X PUT -H 'Content-Type: application/json' -o /dev/null \
        -d '{"latencyMilliseconds":0,"failureRate":0,"timeoutRate":0,"hangSeconds":60}' "$faults"
    say "$(grep -c 'no broker connection' "$work/logs/registry.log") connection losses and" \
        "$(grep -c 'acked without a second answer' "$work/logs/registry.log") redelivered requests seen by the adapter"
else
    say "broker node not found: chaos step skipped"
    # In CI a step skipped is a step failed.
    if [ "${CI:-}" = true ]; then exit 1; fi
fi

say "checking the core's audit"
PYTHONDONTWRITEBYTECODE=1 python3 - "$work/core/audit.sqlite" "$here" <<'EOF'
import sqlite3, sys
sys.path.insert(0, sys.argv[2])
import adapter
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
requests, answers = {}, {}
for message_id, type_, dossier in db.execute(
        "SELECT message_id, type, correlation_id FROM audit_record WHERE type LIKE 'registry.%'"):
    (requests if type_ == adapter.REQUEST_TYPE else answers).setdefault(dossier, []).append(message_id)
beats = db.execute("SELECT COUNT(*) FROM audit_record WHERE sender = 'registry' AND type = ?",
                   (adapter.HEARTBEAT_TYPE,)).fetchone()[0]
wrong = [d for d, ids in requests.items()
         if len(ids) != 1 or answers.get(d) != [adapter.answer_id(ids[0])]]
print(f"e2e: {len(requests)} identity requests, {sum(map(len, answers.values()))} answers, "
      f"{len(wrong)} not answered exactly once with the derived id; {beats} heartbeats", file=sys.stderr)
sys.exit(1 if wrong or not requests or beats == 0 else 0)
EOF
grep -c "identity verified\|identity rejected" "$work/logs/registry.log" | xargs -I{} echo "e2e: {} answers logged by the adapter" >&2
stop
trap - EXIT
say "stopped; $(($(date +%s) - started)) s in all"
