"""Print how long the patient's own copy of their record takes to build, over HTTP with the real
stack, as JSON and as PDF: for the demo's richest patient (`seed_demo`) and for a patient with
2,000 records. Optionally keep one record copy and one accounting of disclosures as PDF and PNG.

    .venv/bin/python bench/record_copy.py                     # SQLite (a throwaway test database)
    DATABASE_URL=postgres://... .venv/bin/python bench/record_copy.py
    .venv/bin/python bench/record_copy.py --shots shots/      # also writes PDFs and PNGs there

Each figure is the median of `--repeat` requests after one warm-up. The PNGs need `pdftoppm`
(poppler-utils).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from caseload.models import IntegrationClient, Patient, Staff  # noqa: E402
from caseload.permissions import OPERATOR  # noqa: E402
from caseload.selectors.record_set import designated_record_set  # noqa: E402
from caseload.services.amendments import (  # noqa: E402
    amendment_deny,
    amendment_file_disagreement,
    amendment_request_create,
)
from caseload.services.disclosures import ledger_client_disclosures  # noqa: E402
from caseload.services.disclosures_off_system import disclosure_record_off_system  # noqa: E402
from caseload.services.integrations import integration_create  # noqa: E402
from caseload.services.tokens import token_issue  # noqa: E402
from tests.factories import EnrollmentFactory, PatientFactory  # noqa: E402
from tests.history_records import fill_history  # noqa: E402

PDF = "application/pdf"


def client_for(staff: Staff) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(staff=staff)[1]}")
    return client


def timed(client: APIClient, url: str, repeat: int, **headers) -> tuple[float, bytes]:
    """Median milliseconds of `repeat` POSTs (after one warm-up), and the last body."""
    response = client.post(url, **headers)
    assert response.status_code == 200, response.content[:300]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.post(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), response.content


def richest_demo_patient(supervisor: Staff) -> tuple[Patient, int]:
    counts = {
        patient: designated_record_set(user=supervisor, patient=patient).count
        for patient in Patient.objects.filter(program=supervisor.program)
    }
    patient = max(counts, key=counts.get)
    return patient, counts[patient]


def add_rights_history(patient: Patient, supervisor: Staff, counselor: Staff) -> None:
    """Disclosures (a reminder service's feed, an emergency call) and a denied amendment with
    the patient's statement, so the documents show every part."""
    client, _ = integration_create(
        name="demo-reminders",
        program=patient.program,
        scopes=["appointments:read"],
        actor=OPERATOR,
        legal_name="Synthetic Reminders LLC",
        address="200 Main Street, Springfield, IL 62701",
    )
    for _ in range(12):
        ledger_client_disclosures(
            client=IntegrationClient.objects.get(pk=client.pk),
            patients=[patient],
            information=["appointments"],
            purpose="Appointment reminders",
            basis="qsoa",
        )
    disclosure_record_off_system(
        actor=supervisor,
        patient=patient,
        fields={
            "basis": "medical_emergency",
            "recipient": "Dr. R. Okafor, St. Synthetic Emergency Department",
            "recipient_address": "10 Hospital Way, Springfield, IL 62702",
            "information": ["medications"],
            "disclosed_at": timezone.now() - timedelta(days=2),
            "purpose": "Treat a suspected overdose",
            "emergency": "Unresponsive on arrival; suspected opioid overdose",
            "disclosed_by": "Nurse J. Rivera (synthetic)",
        },
    )
    record = designated_record_set(user=supervisor, patient=patient).kinds["assessments"][0]
    made = amendment_request_create(
        actor=counselor,
        patient=patient,
        fields={"record": record.pk, "requested_change": "The pulse was 72, not 92."},
    )
    denied = amendment_deny(
        amendment=made, actor=supervisor, reason="The reading was verified at the time."
    )
    amendment_file_disagreement(
        amendment=denied,
        actor=counselor,
        statement="I had just climbed the stairs; a second reading would have been lower.",
    )


def shots(directory: Path, documents: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in documents.items():
        pdf = directory / f"{name}.pdf"
        pdf.write_bytes(body)
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(directory / name)])
    print(f"shots: {', '.join(sorted(p.name for p in directory.iterdir()))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--shots", type=Path)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        call_command("seed_demo", stdout=StringIO())
        supervisor = Staff.objects.get(username="demo.supervisor")
        counselor = Staff.objects.get(username="demo.counselor")
        api = client_for(supervisor)
        print(f"database: {connection.vendor}")
        rich, count = richest_demo_patient(supervisor)
        add_rights_history(rich, supervisor, counselor)
        url = f"/api/v1/patients/{rich.pk}/record-copies/"
        json_ms, _ = timed(api, url, args.repeat)
        pdf_ms, copy_pdf = timed(api, url, args.repeat, HTTP_ACCEPT=PDF)
        print(
            f"record copy, demo's richest patient ({rich.mrn}, {count} records): "
            f"JSON {json_ms:.0f} ms, PDF {pdf_ms:.0f} ms"
        )
        started = time.perf_counter()
        accounting = api.get(f"/api/v1/patients/{rich.pk}/disclosures/", HTTP_ACCEPT=PDF)
        print(f"accounting PDF, same patient: {(time.perf_counter() - started) * 1000:.0f} ms")

        prescriber = Staff.objects.get(username="demo.prescriber")
        big = PatientFactory(actor=supervisor)
        EnrollmentFactory(actor=supervisor, patient=big, counselor=counselor, prescriber=prescriber)
        fill_history(big, counselor, prescriber, args.records)
        held = designated_record_set(user=supervisor, patient=big).count
        url = f"/api/v1/patients/{big.pk}/record-copies/"
        json_ms, _ = timed(api, url, args.repeat)
        pdf_ms, big_pdf = timed(api, url, args.repeat, HTTP_ACCEPT=PDF)
        print(
            f"record copy, patient with {args.records} records ({held} in the copy; counseling "
            f"notes are left out): JSON {json_ms:.0f} ms, PDF {pdf_ms:.0f} ms "
            f"({len(big_pdf) // 1024} KiB)"
        )
        if args.shots:
            shots(args.shots, {"accounting": accounting.content, "record-copy": copy_pdf})
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
