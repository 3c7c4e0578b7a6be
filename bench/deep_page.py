"""The deep feed page against the first, in the harness's conditions and on a quiet machine.

    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard .venv/bin/python bench/deep_page.py

Starts Caseload and stock DRF as `bench/run.py` does, walks the whole feed once (the ledger grows
by a row per row walked, as in the harness) to find the deep page's link, vacuums what the walk
wrote, then times with the built-in generator (4 connections, `--seconds` each):

1. quiet: the first page alone, the deep page alone, the two again in the other order, and
   both in turn in one run;
2. after an abandoned load on stock DRF's deep page (what `wrk` leaves when it stops at its
   deadline: the requests in flight and those in the listen backlog are still served), the deep
   page alone, as the harness's old order (DRF's deep run, then Caseload's) measured it; and the
   seconds the servers then take to settle.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run
from bench.processes import settle


def abandon(port: int, path: str, headers: dict, connections: int, seconds: float) -> None:
    """Load `path` as wrk does: `connections` closed loops for `seconds`, then every socket
    closed at once, whatever it is waiting for (the server still serves those requests)."""
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()
    deadline, open_sockets = time.monotonic() + seconds, set()

    def loop() -> None:
        while time.monotonic() < deadline:
            sock = socket.create_connection(("127.0.0.1", port))
            open_sockets.add(sock)
            try:
                sock.sendall(raw)
                while sock.recv(65536):  # gunicorn's sync workers close after each answer
                    pass
            except OSError:
                return
            finally:
                open_sockets.discard(sock)
                sock.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    for sock in list(open_sockets):
        sock.shutdown(socket.SHUT_RDWR)


def timed(server, paths: list[str], headers: dict, seconds: float) -> list[run.Load]:
    parts: list[run.Load] = []
    run.python_load(server.port, [(p, headers) for p in paths], seconds, per_target=parts)
    return parts


def report(label: str, loads: list[run.Load]) -> None:
    cells = ", ".join(f"p50 {x.p50:.0f} ms ({x.requests} answers)" for x in loads)
    print(f"{label:<58} {cells}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    run.setup_django()
    creds = run.credentials()
    env = run.server_envs()
    servers = {name: run.Server(name, app, env[name]) for name, app in run.APPS.items()}
    servers = {name: servers[name] for name in ("drf", "caseload")}
    workdir = Path(tempfile.mkdtemp(prefix="caseload-deep-"))
    try:
        run.collect_static(servers["caseload"].env)
        for server in servers.values():
            server.start(workdir)
            server.wait()
        measure(servers, creds, args.seconds)
    finally:
        for server in servers.values():
            server.stop()


def measure(servers: dict, creds, seconds: float) -> None:
    caseload, drf = servers["caseload"], servers["drf"]
    creds.oauth = run.oauth_token(caseload, creds)
    client = {"Authorization": f"Bearer {creds.oauth}"}
    staff = {"Authorization": f"Bearer {creds.supervisor}"}
    first = f"/api/v1/appointments/?updated_since={run.EPOCH}&page_size=500"
    deep_row = int(len(creds.expected_ids) * 0.9) // 500 * 500
    walked = run.walk(caseload, creds.oauth, first, deep_row)
    print(f"walk: {len(walked.ids):,} rows in {walked.seconds:.1f} s", flush=True)
    print(f"vacuum of the walk's writes: {run.vacuum_walk_writes():.1f} s", flush=True)
    deep, masters = walked.deep_link, [s.process.pid for s in servers.values()]
    quiet = lambda: settle(masters, run.active_queries)  # noqa: E731
    alone = (("first page alone", [first]), ("deep page alone", [deep]))
    for label, paths in (*alone, *reversed(alone), ("first and deep in turn", [first, deep])):
        quiet()
        report(f"quiet: {label}", timed(caseload, paths, client, seconds))
    drf_deep = f"{first}&page={deep_row // 500 + 1}"
    for label, path in (("deep page", deep), ("first page", first)):
        quiet()
        abandon(drf.port, drf_deep, staff, run.CONNECTIONS, seconds)
        report(
            f"right after DRF's deep run stops: {label}", timed(caseload, [path], client, seconds)
        )
        print(f"  servers settled {quiet():.1f} s after that", flush=True)


if __name__ == "__main__":
    main()
