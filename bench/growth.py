"""What a feed page and a patient's history cost as the data grows: run it on the standard and
the large profile and compare.

    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard .venv/bin/python bench/growth.py
    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_large .venv/bin/python bench/growth.py

Seed each database first (`bench/seed.py --profile standard` / `--profile large`). In process
(Django's test client, no HTTP server, audited as in production), as the `bench` program's
integration client and its prescriber: the integration feed's first page of 500, its 21st page
(rows 10,001 to 10,500, reached by following the `next` links), and the history of the program's
patient with the most appointment changes. Prints the rows in the database, then p50, p95 and
the queries of each. A keyset page and a history read by index must cost the same at any size.
Only synthetic data is read and written.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.console_pages import percentile
from bench.run import EPOCH, credentials, setup_django

PAGE = f"/api/v1/appointments/?updated_since={EPOCH}&page_size=500"
LATER_PAGE = 20  # pages to follow before the later page


def oauth_client(creds):
    from django.test import Client

    basic = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    answer = Client().post(
        "/o/token/",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert answer.status_code == 200, answer.content[:300]
    return Client(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")


def later_page(client) -> str:
    """The feed's page after `LATER_PAGE` pages, by its `next` link."""
    url = PAGE
    for _ in range(LATER_PAGE):
        url = client.get(url).json()["next"]
        assert url, "fewer rows than the later page needs"
    return url


def timed(client, url: str, requests: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up
        client.get(url)
    times = []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            answer = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    return statistics.median(times), percentile(times, 0.95), len(captured)


def table_sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        sizes = {}
        for table in ("caseload_program", "caseload_patient", "caseload_appointment",
                      "caseload_assessment", "caseload_historicalappointment"):  # fmt: skip
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            sizes[table.removeprefix("caseload_")] = cursor.fetchone()[0]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    setup_django()
    from django.test import Client

    print("rows (estimated):", ", ".join(f"{k} {v:,}" for k, v in table_sizes().items()))
    creds = credentials()
    feed = oauth_client(creds)
    prescriber = Client(HTTP_AUTHORIZATION=f"Bearer {creds.prescriber}")
    supervisor = Client(HTTP_AUTHORIZATION=f"Bearer {creds.supervisor}")
    pages = {
        "feed page 1 (500 rows)": (feed, PAGE),
        f"feed page {LATER_PAGE + 1} (500 rows)": (feed, later_page(feed)),
        "patient history (busiest patient)": (
            supervisor,
            f"/api/v1/patients/{creds.history_patient}/history/",
        ),
        "patient history (a prescriber's patient)": (
            prescriber,
            f"/api/v1/patients/{creds.prescriber_patient}/history/",
        ),
    }
    print(f"{'request':<44}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for name, (client, url) in pages.items():
        p50, p95, queries = timed(client, url, args.requests)
        print(f"{name:<44}{p50:>9.1f}{p95:>9.1f}{queries:>9}", flush=True)


if __name__ == "__main__":
    main()
