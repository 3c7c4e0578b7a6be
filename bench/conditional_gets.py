"""A conditional GET against its 200, in-process: the feed's first page of 500, a patient history.

    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard .venv/bin/python \
        bench/conditional_gets.py [--requests 15] [--profile]

On a database seeded by `bench/seed.py`, as `bench/run.py`'s integration client and supervisor,
through Django's test client (no HTTP server): the mean time of a 200 and of a 304 (the ETag the
200 gave in `If-None-Match`) of each path; `--profile` prints cProfile's top of the feed's 304.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    run.setup_django()
    from django.test import Client

    creds = run.credentials()
    client = Client()
    basic = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    token = client.post(
        "/o/token/",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    paths = {
        "feed page 500": (f"/api/v1/appointments/?updated_since={run.EPOCH}&page_size=500", token),
        "patient history": (f"/api/v1/patients/{creds.history_patient}/history/", creds.supervisor),
    }
    for label, (path, bearer) in paths.items():
        headers = {"Authorization": f"Bearer {bearer}"}
        etag = client.get(path, headers=headers)["ETag"]
        for status, extra in (("200", {}), ("304", {"If-None-Match": etag})):
            mean = timed(client, path, {**headers, **extra}, args.requests)
            print(f"{label:<16} {status}  {mean:7.1f} ms", flush=True)
    if args.profile:
        path, bearer = paths["feed page 500"]
        headers = {"Authorization": f"Bearer {bearer}"}
        headers["If-None-Match"] = client.get(path, headers=headers)["ETag"]
        profiler = cProfile.Profile()
        profiler.runcall(timed, client, path, headers, args.requests)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def timed(client, path: str, headers: dict, requests: int) -> float:
    """Mean milliseconds of `requests` GETs (after one untimed)."""
    client.get(path, headers=headers)
    started = time.perf_counter()
    for _ in range(requests):
        client.get(path, headers=headers)
    return (time.perf_counter() - started) / requests * 1000


if __name__ == "__main__":
    main()
