"""What auditing costs a list page: time, queries and bytes of audit log per page.

    .venv/bin/python bench/audit_cost.py            # SQLite (a throwaway test database)
    DATABASE_URL=postgres://... .venv/bin/python bench/audit_cost.py

A supervisor reads `/api/v1/patients/` at page sizes 50 and 500 over a program of 600
patients, with auditing as it is and with the list audit switched off (the difference is what
auditing costs), the two taking turns request by request. On PostgreSQL it also prints how many
bytes the audit tables (with their indexes) grow per page read: the same page read again, and
pages that each return a set of patients never returned before. The script uses only the HTTP
API and the factories, so it runs unchanged against earlier versions of Caseload for a
before/after comparison. docs/compliance.md quotes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

import api.v1.base  # noqa: E402
from caseload.services.tokens import token_issue  # noqa: E402
from tests.factories import PatientFactory, ProgramFactory, StaffFactory  # noqa: E402

PATIENTS = 600
REPEAT = 60
READS_FOR_SIZE = 200


def timed(client: APIClient, url: str, variants: dict) -> dict[str, tuple[int, float, float]]:
    """Per variant (a context to run the request in): (queries, median ms, p95 ms) of GET url.

    The variants take turns request by request, so a busy machine slows each alike.
    """
    counts, samples = {}, {name: [] for name in variants}
    for name, variant in variants.items():
        with variant():
            client.get(url)  # warm up: the token's last-used stamp is written once a minute
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[name] = len(queries)
    for _ in range(REPEAT):
        for name, variant in variants.items():
            with variant():
                started = time.perf_counter()
                client.get(url)
                samples[name].append((time.perf_counter() - started) * 1000)
    result = {}
    for name, times in samples.items():
        times.sort()
        result[name] = (counts[name], statistics.median(times), times[int(len(times) * 0.95) - 1])
    return result


def audit_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " WHERE c.relkind = 'r' AND c.relname LIKE 'caseload_audit%%'"
        )
        return int(cursor.fetchone()[0])


def bytes_per_page(client: APIClient, urls: list[str]) -> float:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # settle free space so sizes compare
    before = audit_bytes()
    for url in urls:
        assert client.get(url).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return (audit_bytes() - before) / len(urls)


def main() -> None:
    logging.disable(logging.WARNING)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        program = ProgramFactory(code="bench")
        supervisor = StaffFactory(username="bench.sup", program=program, role="supervisor")
        for _ in range(PATIENTS):
            PatientFactory(actor=supervisor)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(staff=supervisor)[1]}")
        print(f"database: {connection.vendor}, {PATIENTS} patients, {REPEAT} reads each")
        variants = {
            "audited": contextlib.nullcontext,
            "unaudited": lambda: mock.patch.object(api.v1.base, "audit_read", lambda **kw: None),
        }
        for size in (50, 500):
            url = f"/api/v1/patients/?page_size={size}"
            for name, (queries, median, p95) in timed(client, url, variants).items():
                print(
                    f"list patients page_size={size:<4} {name + ':':<11} queries={queries:<3}"
                    f" median={median:6.1f} ms p95={p95:6.1f} ms"
                )
        if connection.vendor == "postgresql":
            same = bytes_per_page(client, ["/api/v1/patients/?page_size=500"] * READS_FOR_SIZE)
            # Page sizes 400 to 599: every page returns a set of patients never returned before.
            varied = bytes_per_page(
                client, [f"/api/v1/patients/?page_size={400 + i}" for i in range(READS_FOR_SIZE)]
            )
            print(f"audit log growth per page, the same 500 rows again:   {same:8.0f} bytes")
            print(f"audit log growth per page, 400-599 rows, each new set: {varied:8.0f} bytes")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
