"""The patient's own copy of their designated record set (42 CFR 2.23, HIPAA 164.524): made by
their counselor or a supervisor, as JSON or a PDF (parsed back with pypdf), no consent needed,
audited as `patient_access`, never ledgered as a disclosure."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from caseload.models import AuditEvent, Disclosure
from caseload.notice import PART2_NOTICE
from caseload.services.assessments import assessment_record
from caseload.services.drug_screens import drug_screen_record
from caseload.services.medications import medication_record
from caseload.services.records import record_mark_entered_in_error
from caseload.services.referrals import referral_create
from tests.api.v1.test_permission_matrix import COWS_ITEMS, consent_body
from tests.factories import AppointmentFactory, CaseNoteFactory

PDF = "application/pdf"


def url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/record-copies/"


def pdf_text(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == PDF
    reader = PdfReader(io.BytesIO(response.content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.fixture
def records(counselor, prescriber, supervisor, patient):
    """One record of each kind, a consent, a counseling note, and a COWS entered in error."""
    now = timezone.now()
    cows = assessment_record(
        patient=patient, actor=counselor, instrument="cows", items=COWS_ITEMS, administered_at=now
    )
    wrong = assessment_record(
        patient=patient, actor=counselor, instrument="cows", items=COWS_ITEMS, administered_at=now
    )
    record_mark_entered_in_error(instance=wrong, actor=supervisor, reason="Wrong patient chart")
    medication_record(
        patient=patient,
        actor=prescriber,
        fields={
            "medication": "buprenorphine",
            "dose": "8",
            "dose_unit": "mg",
            "frequency": "once daily",
            "route": "sublingual",
            "start_date": timezone.localdate(),
            "prescriber": prescriber,
        },
    )
    drug_screen_record(
        patient=patient,
        actor=counselor,
        collected_at=now,
        method="presumptive",
        results=[{"substance": "fentanyl", "result": "negative"}],
    )
    referral_create(
        patient=patient,
        actor=counselor,
        fields={"group": "smart_recovery", "referred_on": timezone.localdate()},
    )
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor, location="Room 4")
    CaseNoteFactory(actor=counselor, patient=patient, body="Private counseling content")
    return {"cows": cows, "wrong": wrong}


def test_a_counselor_gives_the_patient_a_json_copy(as_user, counselor, patient, records):
    as_user(counselor).post("/api/v1/consents/", consent_body(patient))
    response = as_user(counselor).post(url(patient))
    assert response.status_code == 200, response.json()
    copy = response.json()
    assert copy["patient"]["mrn"] == patient.mrn
    assert copy["notice"] == PART2_NOTICE
    got = {kind: len(rows) for kind, rows in copy["records"].items()}
    assert got == {
        "enrollments": 1,
        "assessments": 2,
        "medications": 1,
        "drug_screens": 1,
        "referrals": 1,
        "appointments": 1,
    }
    statuses = {a["id"]: a["status"] for a in copy["records"]["assessments"]}
    assert statuses[str(records["wrong"].pk)] == "entered_in_error"
    assert len(copy["consents"]) == 1
    assert "notes" not in copy["records"] and "notes" in copy["excluded"]
    assert "Private counseling content" not in response.content.decode()
    assert response["Caseload-Part2-Notice"] == PART2_NOTICE


def test_the_pdf_copy_holds_every_record_and_the_notice_on_every_page(
    as_user, supervisor, patient, records
):
    pages = pdf_text(as_user(supervisor).post(url(patient), HTTP_ACCEPT=PDF))
    whole = " ".join(pages)
    assert "Copy of your record" in whole
    assert f"{patient.given_name} {patient.family_name}" in whole and patient.mrn in whole
    for heading in (
        "Enrollments",
        "Withdrawal assessments",
        "Medications",
        "Drug screens",
        "Support-group referrals",
        "Appointments",
    ):
        assert heading in whole
    assert "Buprenorphine" in whole and "8 mg, once daily, sublingual" in whole
    assert "fentanyl: negative" in whole
    assert "entered in error: Wrong patient chart" in whole
    assert "Room 4" in whole
    assert "Private counseling content" not in whole
    assert all(PART2_NOTICE in page for page in pages)


def test_it_is_audited_as_patient_access_and_never_ledgered(as_user, counselor, patient, records):
    before = Disclosure.objects.count()
    response = as_user(counselor).post(url(patient), HTTP_ACCEPT=PDF)
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="patient_access")
    assert (event.actor, event.patient_id) == (counselor, patient.pk)
    assert event.resource_type == "patient"
    assert event.detail == {"format": "pdf", "records": 7}
    assert event.request_id == response["X-Request-ID"]
    assert Disclosure.objects.count() == before


@pytest.mark.parametrize("persona", ["prescriber", "front_desk"])
def test_other_roles_cannot_make_a_copy(request, as_user, patient, persona):
    response = as_user(request.getfixturevalue(persona)).post(url(patient))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="patient_access", outcome="allowed").exists()


def test_a_counselor_off_the_caseload_gets_404_and_break_glass_is_not_enough(
    as_user, other_counselor, patient
):
    assert as_user(other_counselor).post(url(patient)).status_code == 404
    opened = as_user(other_counselor).post(
        f"/api/v1/patients/{patient.pk}/break-glass/",
        {"reason": "Covering a crisis call for the patient's counselor tonight."},
    )
    assert opened.status_code == 201
    assert as_user(other_counselor).post(url(patient)).status_code == 403


def test_another_programs_patient_is_404(as_user, supervisor, foreign_patient):
    assert as_user(supervisor).post(url(foreign_patient)).status_code == 404


def test_a_body_with_fields_is_refused(as_user, counselor, patient):
    response = as_user(counselor).post(url(patient), {"format": "docx"})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("format", "unknown_field")
    ]
