"""A TCP proxy that can cut the network without closing anything, for the heartbeat tests.

    freezable_proxy.py UPSTREAM_PORT    listens on 127.0.0.1 (a free port, printed on stdout)

SIGUSR1 freezes it: bytes stop flowing both ways and sockets stay open, as when a cable is cut.
SIGUSR2 thaws it: the frozen connections are dropped and new ones flow again.
"""
import signal
import socket
import sys
import threading
import time

upstream_port = int(sys.argv[1])
frozen = threading.Event()
connections = []
lock = threading.Lock()


def relay(source, target, generation):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            while frozen.is_set() or generation != current_generation[0]:
                if generation != current_generation[0]:
                    return
                time.sleep(0.05)
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.close()
            except OSError:
                pass


current_generation = [0]


def freeze(*_):
    frozen.set()
    print("frozen", flush=True)


def thaw(*_):
    with lock:
        current_generation[0] += 1
        for end in connections:
            try:
                end.shutdown(socket.SHUT_RDWR)
                end.close()
            except OSError:
                pass
        connections.clear()
    frozen.clear()
    print("thawed", flush=True)


signal.signal(signal.SIGUSR1, freeze)
signal.signal(signal.SIGUSR2, thaw)

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
# Python runs signal handlers in the main thread only, between its own steps: accept() must not
# block for long, or a freeze would wait for the next connection.
listener.settimeout(0.1)
print(listener.getsockname()[1], flush=True)

while True:
    try:
        client, _ = listener.accept()
    except (InterruptedError, socket.timeout):
        continue
    client.settimeout(None)
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    with lock:
        connections.extend([client, upstream])
        generation = current_generation[0]
    threading.Thread(target=relay, args=(client, upstream, generation), daemon=True).start()
    threading.Thread(target=relay, args=(upstream, client, generation), daemon=True).start()
