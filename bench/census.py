"""Print the SQL query count and time of the census report at two program sizes.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<throwaway> .venv/bin/python bench/census.py
    DATABASE_URL=postgres://…/<a bench/seed.py database> .venv/bin/python bench/census.py --seeded

The report must read in the same number of queries however many enrollments the program holds.
Without `--seeded` it builds a throwaway test database, loads a program of 100 and then 10,000
enrollments (half of them with a level-of-care placement) in bulk, and measures the report at
each size. With `--seeded` it measures the report on the program `bench/seed.py` loaded (the
standard profile: 100,000 enrollments), as that program's supervisor.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from caseload.models import Enrollment, Patient, Placement, Staff  # noqa: E402
from caseload.services.tokens import token_issue  # noqa: E402
from tests.factories import ProgramFactory, StaffFactory  # noqa: E402

URL = "/api/v1/reports/census/"
LEVELS = ("1", "2.1", "3.7", "OTP", "3.2-WM")
COARSE = {"1": "outpatient", "2.1": "intensive_outpatient", "3.7": "inpatient", "OTP":
          "outpatient", "3.2-WM": "inpatient"}  # fmt: skip


def measure(client: APIClient, runs: int = 5) -> tuple[int, float]:
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    assert client.get(URL).status_code == 200  # the token's first use stamps it: not counted
    with connection.execute_wrapper(count):
        assert client.get(URL).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(URL)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return len(executed), statistics.median(times)


def grow(supervisor: Staff, counselor: Staff, total: int) -> None:
    """Bring the program to `total` enrollments, every other one with a placement."""
    have = Enrollment.objects.filter(patient__program_id=supervisor.program_id).count()
    today, now = timezone.localdate(), timezone.now()
    patients, enrollments, placements = [], [], []
    for i in range(have, total):
        patient = Patient(program_id=supervisor.program_id, mrn=f"CEN-{i:06d}",
                          given_name="Bench", family_name="Synthetic",
                          birth_date=today - timedelta(days=12_000))  # fmt: skip
        level = LEVELS[i % len(LEVELS)]
        enrollment = Enrollment(patient=patient, counselor=counselor, status="active",
                                level_of_care=COARSE[level], admitted_on=today - timedelta(days=30),
                                treatment_consent_signed_at=now - timedelta(days=30),
                                asam_level=level if i % 2 else "")  # fmt: skip
        patients.append(patient)
        enrollments.append(enrollment)
        if i % 2:
            ratings = {f"dimension_{n}": 1 for n in range(1, 7)}
            placements.append(
                Placement(
                    patient=patient,
                    enrollment=enrollment,
                    assessed_at=now - timedelta(days=29),
                    recommended_level=level,
                    actual_level=level,
                    **ratings,
                )
            )
    Patient.objects.bulk_create(patients, batch_size=2000)
    Enrollment.objects.bulk_create(enrollments, batch_size=2000)
    Placement.objects.bulk_create(placements, batch_size=2000)


def throwaway() -> None:
    from django.test.utils import get_runner

    setup_test_environment()
    runner = get_runner(django.conf.settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        program = ProgramFactory(code=f"census-{uuid.uuid4().hex[:6]}")
        supervisor = StaffFactory(program=program, role="supervisor")
        counselor = StaffFactory(program=program, role="counselor")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(staff=supervisor)[1]}")
        for total in (100, 10_000):
            grow(supervisor, counselor, total)
            queries, median = measure(client)
            print(f"census  enrollments={total:<7} queries={queries}  median={median:8.1f} ms")
    finally:
        runner.teardown_databases(old)


def seeded() -> None:
    setup_test_environment()
    supervisor = Staff.objects.filter(role="supervisor", program__code="bench").first()
    if supervisor is None:
        sys.exit("No bench program here: run bench/seed.py on this database first.")
    total = Enrollment.objects.filter(patient__program_id=supervisor.program_id).count()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(staff=supervisor)[1]}")
    queries, median = measure(client)
    print(f"census  enrollments={total:<7} queries={queries}  median={median:8.1f} ms  (seeded)")


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeded", action="store_true", help="measure a bench/seed.py program")
    (seeded if parser.parse_args().seeded else throwaway)()
