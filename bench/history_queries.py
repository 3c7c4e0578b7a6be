"""Print SQL query counts and timings of the patient history and the list endpoints.

    .venv/bin/python bench/history_queries.py            # SQLite (a throwaway test database)
    DATABASE_URL=postgres://... .venv/bin/python bench/history_queries.py

The history endpoint must not issue more queries as a patient's record grows, and a list page
must cost the same number of queries at page size 10 and 100.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from caseload.services.assessments import assessment_record  # noqa: E402
from caseload.services.notes import note_create  # noqa: E402
from caseload.services.tokens import token_issue  # noqa: E402
from tests.factories import (  # noqa: E402
    EnrollmentFactory,
    PatientFactory,
    ProgramFactory,
    StaffFactory,
)

COWS = {
    "resting_pulse": 1,
    "sweating": 1,
    "restlessness": 1,
    "pupil_size": 1,
    "bone_joint_aches": 1,
    "runny_nose_tearing": 1,
    "gi_upset": 1,
    "tremor": 1,
    "yawning": 1,
    "anxiety_irritability": 1,
    "gooseflesh": 0,
}


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


def patient_with_records(supervisor, counselor, count: int):
    patient = PatientFactory(actor=supervisor)
    EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselor)
    now = timezone.now()
    for i in range(count - 1):
        at = now - timedelta(hours=i + 1)
        if i % 2:
            note_create(actor=counselor, patient=patient, fields={"written_at": at, "body": "n"})
        else:
            assessment_record(
                patient=patient, actor=counselor, instrument="cows", items=COWS, administered_at=at
            )
    return patient


def main() -> None:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        program = ProgramFactory(code="bench")
        supervisor = StaffFactory(username="bench.sup", program=program, role="supervisor")
        counselor = StaffFactory(username="bench.c", program=program, role="counselor")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(staff=supervisor)[1]}")
        print(f"database: {connection.vendor}")
        for size in (10, 200):
            patient = patient_with_records(supervisor, counselor, size)
            queries, ms = measure(client, f"/api/v1/patients/{patient.pk}/history/")
            print(f"history  records={size:<4} queries={queries:<3} mean={ms:7.1f} ms")
        for _ in range(120):
            PatientFactory(actor=supervisor)
        for name in ("patients", "assessments", "notes", "enrollments"):
            for size in (10, 100):
                queries, ms = measure(client, f"/api/v1/{name}/?page_size={size}")
                print(f"list {name:<12} page_size={size:<4} queries={queries:<3} mean={ms:7.1f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
