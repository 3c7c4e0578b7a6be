"""Part 2 consents (42 CFR 2.31): every element required and named when missing, never edited,
revoked by endpoint, expiry honoured on the next request, counseling notes never bundled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditEvent, Consent
from tests.api.v1.test_permission_matrix import consent_body

URL = "/api/v1/consents/"
ELEMENTS = {
    "recipient_name",
    "purpose",
    "information",
    "expires_at",
    "expiry_event",
    "signed_by",
    "signed_at",
    "revocation_notice",
    "redisclosure_statement",
    "treatment_not_conditioned_statement",
    "signer_role",
}


def fields_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.json()
    return sorted((e["field"], e["code"]) for e in response.json()["errors"])


def test_a_counselor_records_a_consent_with_every_element(as_user, counselor, patient):
    response = as_user(counselor).post(URL, consent_body(patient))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active"
    assert body["information"] == ["appointments", "enrollments"]
    assert (body["revocation_notice"], body["recipient_client"]) == (True, None)
    assert body["created_by"] == str(counselor.pk)
    event = AuditEvent.objects.get(action="create", resource_type="consent")
    assert (event.patient_id, event.status_code) == (patient.pk, 201)


def test_every_missing_element_is_named(as_user, counselor, patient):
    response = as_user(counselor).post(URL, {"patient": str(patient.pk)})
    named = {field for field, _ in fields_of(response)}
    assert named == ELEMENTS
    assert not Consent.objects.exists()


def test_blank_elements_are_missing_elements(as_user, counselor, patient):
    body = consent_body(patient) | {"recipient_name": "", "purpose": "", "information": []}
    assert {f for f, _ in fields_of(as_user(counselor).post(URL, body))} == {
        "recipient_name",
        "purpose",
        "information",
    }


def test_an_end_is_required_a_date_or_an_event(as_user, counselor, patient):
    body = consent_body(patient)
    del body["expires_at"]
    assert fields_of(as_user(counselor).post(URL, body)) == [
        ("expires_at", "required"),
        ("expiry_event", "required"),
    ]
    with_event = body | {"expiry_event": "Discharge from the program"}
    response = as_user(counselor).post(URL, with_event)
    assert response.status_code == 201
    assert (response.json()["expires_at"], response.json()["status"]) == (None, "active")


def test_an_end_already_past_is_refused(as_user, counselor, patient):
    body = consent_body(patient) | {"expires_at": (timezone.now() - timedelta(days=1)).isoformat()}
    assert fields_of(as_user(counselor).post(URL, body)) == [("expires_at", "out_of_range")]


def test_the_patient_must_have_been_told_how_to_revoke(as_user, counselor, patient):
    body = consent_body(patient) | {"revocation_notice": False}
    assert fields_of(as_user(counselor).post(URL, body)) == [("revocation_notice", "required")]


def test_counseling_notes_are_never_bundled(as_user, counselor, patient):
    api = as_user(counselor)
    bundled = consent_body(patient) | {"information": ["notes", "appointments"]}
    assert fields_of(api.post(URL, bundled)) == [("information", "notes_not_alone")]
    alone = consent_body(patient) | {"information": ["notes"]}
    assert api.post(URL, alone).status_code == 201


def test_an_unknown_kind_of_information_is_named(as_user, counselor, patient):
    body = consent_body(patient) | {"information": ["appointments", "genome"]}
    assert ("information.1", "invalid_choice") in fields_of(as_user(counselor).post(URL, body))


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_consent_is_never_edited(as_user, counselor, patient, method):
    created = as_user(counselor).post(URL, consent_body(patient)).json()
    response = getattr(as_user(counselor), method)(f"{URL}{created['id']}/", {"purpose": "Other"})
    assert response.status_code == 405
    assert Consent.objects.get(pk=created["id"]).purpose.startswith("Report")


def test_revoking_ends_it_once(as_user, counselor, supervisor, patient):
    created = as_user(counselor).post(URL, consent_body(patient)).json()
    revoked = as_user(supervisor).post(f"{URL}{created['id']}/revoke/")
    assert revoked.status_code == 200, revoked.json()
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_by"] == str(supervisor.pk)
    again = as_user(counselor).post(f"{URL}{created['id']}/revoke/")
    assert (again.status_code, again.json()["code"]) == (409, "already_revoked")
    event = AuditEvent.objects.get(action="revoke", resource_type="consent", outcome="allowed")
    assert (event.actor, event.patient_id) == (supervisor, patient.pk)
    listed = as_user(counselor).get(URL, {"status": "revoked"}).json()["results"]
    assert [c["id"] for c in listed] == [created["id"]]


def test_expiry_is_honoured_on_the_next_request_without_a_job(
    as_user, counselor, patient, monkeypatch
):
    body = consent_body(patient) | {"expires_at": (timezone.now() + timedelta(hours=1)).isoformat()}
    api = as_user(counselor)
    created = api.post(URL, body).json()
    assert created["status"] == "active"
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    assert api.get(f"{URL}{created['id']}/").json()["status"] == "expired"
    assert [c["id"] for c in api.get(URL, {"status": "expired"}).json()["results"]] == [
        created["id"]
    ]
    assert api.get(URL, {"status": "active"}).json()["results"] == []
    refused = api.post(f"{URL}{created['id']}/revoke/")
    assert (refused.status_code, refused.json()["code"]) == (409, "already_expired")


def test_a_prescriber_reads_but_does_not_write_consents(as_user, prescriber, counselor, patient):
    as_user(counselor).post(URL, consent_body(patient))
    api = as_user(prescriber)
    assert len(api.get(URL).json()["results"]) == 1
    assert api.post(URL, consent_body(patient)).status_code == 403


def test_front_desk_sees_no_consents(as_user, front_desk, counselor, patient):
    as_user(counselor).post(URL, consent_body(patient))
    assert as_user(front_desk).get(URL).status_code == 403


def test_naming_a_patient_off_the_caseload_is_a_400_and_an_audited_denial(
    as_user, other_counselor, patient
):
    response = as_user(other_counselor).post(URL, consent_body(patient))
    assert ("patient", "does_not_exist") in fields_of(response)
    event = AuditEvent.objects.get(actor=other_counselor, outcome="denied")
    assert (event.action, event.resource_type, event.status_code) == ("create", "consent", 400)
    assert event.patient_id == patient.pk
    assert event.detail["named"] == {"patient": str(patient.pk)}


def test_naming_another_programs_patient_leaves_no_patient_in_the_log(
    as_user, counselor, foreign_patient
):
    response = as_user(counselor).post(URL, consent_body(foreign_patient))
    assert ("patient", "does_not_exist") in fields_of(response)
    event = AuditEvent.objects.get(actor=counselor, outcome="denied")
    assert (event.patient_id, event.detail["named"]) == (
        None,
        {"patient": str(foreign_patient.pk)},
    )
