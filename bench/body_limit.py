"""Time and worker memory of a real gunicorn answering a 150 MiB JSON body.

    .venv/bin/python bench/body_limit.py [SIZE_MIB]

Starts gunicorn (one sync worker, test settings, a throwaway SQLite database) and POSTs a valid
JSON patient padded to SIZE_MIB (default 150) to /api/v1/patients/ with a supervisor's token,
once with Content-Length and once chunked. Prints the answer, how much of the body the client got
to send before the answer, the time to the answer, and the worker's resident memory before and
its peak after.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gunicorn_server import rss_kib, running_gunicorn, worker_pid

MIB = 1024 * 1024


def main() -> None:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 150 * MIB
    with tempfile.TemporaryDirectory() as scratch:
        for chunked in (False, True):
            # A fresh worker each time, so its peak memory belongs to this request alone.
            with running_gunicorn(Path(scratch) / f"db{int(chunked)}.sqlite3") as server:
                pid = worker_pid(server)
                server.post("/api/v1/patients/", 10, chunked=False)  # warm the worker up
                before = rss_kib(pid)
                answer = server.post("/api/v1/patients/", size, chunked=chunked)
                after = rss_kib(pid)
            framing = "chunked" if chunked else "Content-Length"
            print(
                f"{size // MIB} MiB {framing:>14}: {answer.status}"
                f" after {answer.seconds:.2f} s,"
                f" {answer.body_bytes_sent / MIB:.1f} MiB sent;"
                f" worker RSS {before['VmRSS'] / 1024:.0f} MiB before,"
                f" peak {after['VmHWM'] / 1024:.0f} MiB"
                f" (+{(after['VmHWM'] - before['VmRSS']) / 1024:.0f} MiB)"
            )


if __name__ == "__main__":
    main()
