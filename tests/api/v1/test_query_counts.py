"""List endpoints run a fixed number of SQL queries, however many rows a page holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    AppointmentFactory,
    CaseNoteFactory,
    EnrollmentFactory,
    PatientFactory,
    StaffFactory,
)

RECORDS = 110


@pytest.fixture
def caseload(program, supervisor, prescriber):
    """110 patients, each enrolled, spread over several counselors."""
    counselors = [
        StaffFactory(username=f"qc.counselor{i}", program=program, role="counselor")
        for i in range(5)
    ]
    patients = []
    for i in range(RECORDS):
        patient = PatientFactory(actor=supervisor)
        counselor = counselors[i % len(counselors)]
        EnrollmentFactory(
            actor=supervisor, patient=patient, counselor=counselor, prescriber=prescriber
        )
        patients.append((patient, counselor))
    return patients


def with_notes(caseload) -> None:
    for patient, counselor in caseload:
        CaseNoteFactory(actor=counselor, patient=patient)


def with_appointments(caseload) -> None:
    start = timezone.now() + timedelta(days=1)
    for i, (patient, counselor) in enumerate(caseload):
        AppointmentFactory(
            actor=counselor, patient=patient, staff=counselor, start=start + timedelta(hours=i)
        )


def queries_for(api, url: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) == page_size
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url", "populate"),
    [
        ("/api/v1/patients/", None),
        ("/api/v1/enrollments/", None),
        ("/api/v1/notes/", with_notes),
        ("/api/v1/appointments/", with_appointments),
    ],
    ids=["patients", "enrollments", "notes", "appointments"],
)
def test_a_list_page_costs_the_same_queries_for_10_rows_as_for_100(
    url, populate, as_user, supervisor, caseload
):
    if populate:
        populate(caseload)
    api = as_user(supervisor)
    api.get(url, {"page_size": 1})  # first use of the token records it; later requests do not
    small = queries_for(api, url, 10)
    large = queries_for(api, url, 100)
    assert small == large, f"{url}: {small} queries for 10 rows, {large} for 100"
