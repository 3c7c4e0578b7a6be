"""Print SQL query counts and timings of the patient history and the list endpoints.

    .venv/bin/python bench/history_queries.py            # SQLite (a throwaway test database)
    DATABASE_URL=postgres://... .venv/bin/python bench/history_queries.py

The history endpoint must not issue more queries as a patient's record grows: it is measured for
a rich record (every record type the history lists, 10 and 200 records besides the enrollment)
and for a record with nothing but the enrollment, as the prescriber and as a supervisor. A list
page must cost the same number of queries at page size 10 and 100. docs/api.md quotes this
script's output.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from caseload.services.tokens import token_issue  # noqa: E402
from tests.factories import (  # noqa: E402
    EnrollmentFactory,
    PatientFactory,
    ProgramFactory,
    StaffFactory,
)
from tests.history_records import fill_history  # noqa: E402


def measure(client: APIClient, url: str, repeat: int = 5) -> tuple[int, float]:
    client.get(url)  # warm up: the token's last-used stamp is written at most once a minute
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:200]
    count = len(queries)  # before the next request resets the query log
    started = time.perf_counter()
    for _ in range(repeat):
        client.get(url)
    return count, (time.perf_counter() - started) / repeat * 1000


def client_for(staff) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(staff=staff)[1]}")
    return client


def main() -> None:
    logging.disable(logging.WARNING)  # eager Celery's per-task log lines would drown the figures
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        program = ProgramFactory(code="bench")
        supervisor = StaffFactory(username="bench.sup", program=program, role="supervisor")
        counselor = StaffFactory(username="bench.c", program=program, role="counselor")
        prescriber = StaffFactory(username="bench.p", program=program, role="prescriber")
        clients = {"prescriber": client_for(prescriber), "supervisor": client_for(supervisor)}
        print(f"database: {connection.vendor}")
        for records in (0, 10, 200):
            patient = PatientFactory(actor=supervisor)
            EnrollmentFactory(
                actor=supervisor, patient=patient, counselor=counselor, prescriber=prescriber
            )
            fill_history(patient, counselor, prescriber, records)
            kinds = "every type" if records else "enrollment only"
            for role, client in clients.items():
                queries, ms = measure(client, f"/api/v1/patients/{patient.pk}/history/")
                print(
                    f"history  records={records:<4} ({kinds:<15}) as {role:<10}"
                    f" queries={queries:<3} mean={ms:7.1f} ms"
                )
        for _ in range(120):
            PatientFactory(actor=supervisor)
        for name in ("patients", "assessments", "notes", "enrollments"):
            for size in (10, 100):
                queries, ms = measure(clients["supervisor"], f"/api/v1/{name}/?page_size={size}")
                print(f"list {name:<12} page_size={size:<4} queries={queries:<3} mean={ms:7.1f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
