"""Where a Caseload worker's time goes under load: py-spy on both gunicorn workers.

    export DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard   # seeded by bench/seed.py
    .venv/bin/python bench/spy.py --seconds 10 [--only me,feed]

Starts Caseload as `bench/run.py` does (production settings, 2 sync workers), and for each path
(the integration's feed page of 500, the same page answered 304, `/api/v1/me/`, the busiest
patient's history, its 304) loads it with the built-in generator (4 connections) while
`py-spy record --idle` samples both workers. It prints, per path, where the sampled time of
the requests went: waiting on PostgreSQL, in psycopg, Django, DRF, oauthlib, Caseload's own
code and the rest, by the package of the innermost frame; then the heaviest frames, inclusive.
Time a worker spends waiting for the next connection is left out: only time inside a request
counts. py-spy needs to read the workers' memory (it does as their parent's sibling here; in a
container, `--cap-add SYS_PTRACE`).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import feed_me  # noqa: E402 - after the path
from bench import run as harness  # noqa: E402
from bench.processes import children  # noqa: E402

IN_REQUEST = "handle_request (gunicorn/workers/sync.py"
# The innermost frame's file decides where a sample's time went; the first match wins.
PLACES = (
    ("waiting on PostgreSQL", ("Connection.wait (psycopg/", "psycopg/waiting.py")),
    ("psycopg", ("psycopg/",)),
    ("oauthlib / oauth2_provider", ("oauthlib/", "oauth2_provider/")),
    ("DRF", ("rest_framework/",)),
    ("Django ORM", ("django/db/",)),
    ("Django (the rest)", ("django/",)),
    ("Caseload: caseload/", ("/caseload/",)),
    ("Caseload: api/, config/", ("/api/", "/config/")),
    ("gunicorn", ("gunicorn/",)),
    ("orjson / json", ("orjson", "json/")),
)


def record(pids: list[int], seconds: float, workdir: Path, label: str) -> list[Path]:
    """Start py-spy on each worker; returns the files it will write when it ends."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    outputs = []
    for pid in pids:
        out = workdir / f"{label}-{pid}.txt"
        command = [spy, "record", "--pid", str(pid), "--idle", "--format", "raw"]
        command += ["--rate", "250", "--duration", str(int(seconds)), "--output", str(out)]
        command += ["--nonblocking"]
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        outputs.append(out)
    return outputs


def stacks(paths: list[Path]) -> list[tuple[list[str], int]]:
    """The samples taken inside a request: (frames outermost first, count)."""
    found = []
    for path in paths:
        if not path.exists():
            raise harness.HarnessError(f"py-spy wrote no {path.name}: can it read the workers?")
        for line in path.read_text().splitlines():
            frames, _, count = line.rpartition(" ")
            if IN_REQUEST in frames:
                found.append((frames.split(";"), int(count)))
    return found


def place(frame: str) -> str:
    for name, marks in PLACES:
        if any(mark in frame for mark in marks):
            return name
    return "other"


def report(label: str, rps: float, samples: list[tuple[list[str], int]], top: int) -> None:
    total = sum(count for _, count in samples) or 1
    print(f"\n=== {label}: {rps:.1f} req/s under py-spy, {total} samples inside requests ===")
    by_place: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    for frames, count in samples:
        by_place[place(frames[-1])] += count
        start = next(i for i, frame in enumerate(frames) if IN_REQUEST in frame)
        for frame in set(frames[start + 1 :]):
            inclusive[frame] += count
    for name, count in by_place.most_common():
        print(f"  {count / total:6.1%}  {name}")
    print("  heaviest frames (inclusive):")
    for frame, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {shorten(frame)}")


def shorten(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for prefix in (str(ROOT) + "/", "site-packages/"):
        if prefix in where:
            where = where.split(prefix, 1)[1]
    return f"{name} ({where})"


def targets(server: harness.Server, creds: harness.Credentials) -> dict[str, tuple[str, dict]]:
    client = {"Authorization": f"Bearer {harness.oauth_token(server, creds)}"}
    staff = {"Authorization": f"Bearer {creds.supervisor}"}
    history = f"/api/v1/patients/{creds.history_patient}/history/"
    found = {
        "feed": (feed_me.FEED, client),
        "me": ("/api/v1/me/", staff),
        "history": (history, staff),
    }
    for key, (path, headers) in list(found.items()):
        status, response_headers, body = harness.request(server.port, "GET", path, headers)
        if status != 200:
            raise harness.HarnessError(f"{key}: {status} {body[:300]!r}")
        etag = {k.lower(): v for k, v in response_headers.items()}.get("etag")
        if etag and key != "me":
            found[f"{key} 304"] = (path, {**headers, "If-None-Match": etag})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only", help="comma-separated: feed, feed 304, me, history, history 304")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    feed_me.need_seeded_postgres()
    harness.setup_django()
    creds = harness.credentials()
    server = feed_me.servers(None)["caseload"]
    workdir = Path(tempfile.mkdtemp(prefix="caseload-spy-"))
    harness.collect_static(server.env)
    server.start(workdir)
    try:
        server.wait()
        chosen = targets(server, creds)
        wanted = args.only.split(",") if args.only else list(chosen)
        for label in wanted:
            path, headers = chosen[label]
            expect = (304,) if label.endswith("304") else (200,)
            harness.python_load(server.port, [(path, headers)], 2, expect)  # warm both workers
            outputs = record(children(server.process.pid), args.seconds, workdir, label)
            result = harness.python_load(server.port, [(path, headers)], args.seconds, expect)
            _wait_for(outputs)
            report(label, result.rps, stacks(outputs), args.top)
    finally:
        server.stop()


def _wait_for(outputs: list[Path], timeout: float = 30) -> None:
    """py-spy writes its file once its duration is over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(p.exists() for p in outputs):
        time.sleep(0.2)
    time.sleep(0.5)  # the file is written in one go; let it finish


if __name__ == "__main__":
    main()
