"""Amendment requests (HIPAA 164.526): the 60-day clock, acceptance through entered-in-error
and a corrected record linked both ways, denial with a reason, and the statement of
disagreement that goes with the record in later copies."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from caseload.models import AmendmentRequest, Assessment, AuditEvent
from caseload.services.assessments import assessment_record
from tests.api.v1.test_permission_matrix import COWS_ITEMS


def url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/amendments/"


def errors_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.json()
    return sorted((e["field"], e["code"]) for e in response.json()["errors"])


def cows(patient, actor):
    return assessment_record(
        patient=patient,
        actor=actor,
        instrument="cows",
        items=COWS_ITEMS,
        administered_at=timezone.now() - timedelta(hours=1),
    )


def ask(api, patient, record, **extra):
    body = {"record": str(record.pk), "requested_change": "The pulse was 72, not 92."} | extra
    response = api.post(url(patient), body)
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_counselor_records_a_request_with_its_60_days(as_user, counselor, patient):
    record = cows(patient, counselor)
    asked = timezone.now() - timedelta(days=2)
    made = ask(as_user(counselor), patient, record, requested_at=asked.isoformat())
    assert (made["status"], made["record_type"], made["record"]) == (
        "pending",
        "assessment",
        str(record.pk),
    )
    stored = AmendmentRequest.objects.get(pk=made["id"])
    assert stored.due_at == stored.requested_at + timedelta(days=60)
    assert made["overdue"] is False
    event = AuditEvent.objects.get(action="create", resource_type="amendmentrequest")
    assert (event.actor, event.patient_id) == (counselor, patient.pk)


def test_a_request_naming_another_patients_record_is_refused(
    as_user, counselor, supervisor, patient, other_patient
):
    theirs = cows(other_patient, supervisor)
    body = {"record": str(theirs.pk), "requested_change": "x"}
    assert errors_of(as_user(supervisor).post(url(patient), body)) == [("record", "does_not_exist")]
    future = (timezone.now() + timedelta(days=2)).isoformat()
    body = {"record": str(theirs.pk), "requested_change": " ", "requested_at": future}
    assert errors_of(as_user(supervisor).post(url(patient), body)) == [
        ("record", "does_not_exist"),
        ("requested_at", "out_of_range"),
        ("requested_change", "blank"),
    ]
    assert not AmendmentRequest.objects.exists()


def test_overdue_lists_pending_requests_past_60_days(as_user, counselor, supervisor, patient):
    api = as_user(counselor)
    old = ask(
        api,
        patient,
        cows(patient, counselor),
        requested_at=(timezone.now() - timedelta(days=61)).isoformat(),
    )
    ask(api, patient, cows(patient, counselor))
    decided = ask(
        api,
        patient,
        cows(patient, counselor),
        requested_at=(timezone.now() - timedelta(days=70)).isoformat(),
    )
    as_user(supervisor).post(f"/api/v1/amendments/{decided['id']}/deny/", {"reason": "Accurate."})
    listed = api.get(url(patient), {"overdue": "true"}).json()["results"]
    assert [a["id"] for a in listed] == [old["id"]]
    assert listed[0]["overdue"] is True
    assert len(api.get(url(patient)).json()["results"]) == 3
    top = as_user(supervisor).get("/api/v1/amendments/", {"overdue": "true"}).json()["results"]
    assert [a["id"] for a in top] == [old["id"]]


def test_accepting_corrects_the_record_and_links_both_ways(as_user, counselor, supervisor, patient):
    original = cows(patient, counselor)
    made = ask(as_user(counselor), patient, original)
    corrected = cows(patient, counselor)
    response = as_user(supervisor).post(
        f"/api/v1/amendments/{made['id']}/accept/", {"replacement": str(corrected.pk)}
    )
    assert response.status_code == 200, response.json()
    accepted = response.json()
    assert (accepted["status"], accepted["replacement"], accepted["record"]) == (
        "accepted",
        str(corrected.pk),
        str(original.pk),
    )
    assert accepted["decided_by"] == str(supervisor.pk)
    original = Assessment.objects.get(pk=original.pk)
    assert original.status == "entered_in_error"
    assert made["id"] in original.entered_in_error_reason
    assert str(corrected.pk) in original.entered_in_error_reason
    again = as_user(supervisor).post(
        f"/api/v1/amendments/{made['id']}/deny/", {"reason": "Changed my mind."}
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_accepted")


def test_accepting_needs_a_corrected_record_of_the_same_patient(
    as_user, counselor, supervisor, patient, other_patient
):
    made = ask(as_user(counselor), patient, cows(patient, counselor))
    theirs = cows(other_patient, supervisor)
    response = as_user(supervisor).post(
        f"/api/v1/amendments/{made['id']}/accept/", {"replacement": str(theirs.pk)}
    )
    assert errors_of(response) == [("replacement", "does_not_exist")]
    assert AmendmentRequest.objects.get(pk=made["id"]).status == "pending"


def test_only_a_supervisor_decides(as_user, counselor, patient):
    made = ask(as_user(counselor), patient, cows(patient, counselor))
    response = as_user(counselor).post(
        f"/api/v1/amendments/{made['id']}/deny/", {"reason": "Accurate as written."}
    )
    assert response.status_code == 403


def test_a_denial_gives_its_reason_and_the_statement_goes_into_later_copies(
    as_user, counselor, supervisor, patient
):
    made = ask(as_user(counselor), patient, cows(patient, counselor))
    deny = f"/api/v1/amendments/{made['id']}/deny/"
    assert errors_of(as_user(supervisor).post(deny, {"reason": ""})) == [("reason", "blank")]
    denied = as_user(supervisor).post(deny, {"reason": "The reading was verified twice."})
    assert denied.status_code == 200 and denied.json()["denial_reason"].startswith("The reading")
    statement = "I was calm; the pulse was taken after I ran up the stairs."
    filed = as_user(counselor).post(
        f"/api/v1/amendments/{made['id']}/disagreement/", {"statement": statement}
    )
    assert filed.status_code == 200, filed.json()
    twice = as_user(counselor).post(
        f"/api/v1/amendments/{made['id']}/disagreement/", {"statement": "Again."}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "disagreement_filed")
    copy = as_user(counselor).post(f"/api/v1/patients/{patient.pk}/record-copies/").json()
    assert copy["amendments"][0]["disagreement"] == statement
    pdf = as_user(counselor).post(
        f"/api/v1/patients/{patient.pk}/record-copies/", HTTP_ACCEPT="application/pdf"
    )
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert statement in text
    assert "The reading was verified twice." in text
    assert "your statement of disagreement is attached" in text


def test_a_statement_needs_a_denial_first(as_user, counselor, patient):
    made = ask(as_user(counselor), patient, cows(patient, counselor))
    response = as_user(counselor).post(
        f"/api/v1/amendments/{made['id']}/disagreement/", {"statement": "I disagree."}
    )
    assert (response.status_code, response.json()["code"]) == (409, "not_denied")


@pytest.mark.parametrize("persona", ["front_desk", "prescriber"])
def test_front_desk_and_prescribers_record_no_request(
    request, as_user, counselor, patient, persona
):
    record = cows(patient, counselor)
    body = {"record": str(record.pk), "requested_change": "x"}
    assert as_user(request.getfixturevalue(persona)).post(url(patient), body).status_code == 403
