"""Consents completed (42 CFR 2.31): the redisclosure and treatment-not-conditioned statements,
who signed in what capacity, and expiry events that end a consent when they are recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditEvent, Consent
from caseload.services.audit_chain import audit_verify
from tests.api.v1.test_permission_matrix import consent_body
from tests.api.v1.test_sync_feed import EPOCH, FEED, walk
from tests.conftest import integration_for
from tests.factories import AppointmentFactory

URL = "/api/v1/consents/"


def errors_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.json()
    return sorted((e["field"], e["code"]) for e in response.json()["errors"])


def by_event(patient, **extra) -> dict:
    body = consent_body(patient) | {"expiry_event": "Discharge from the program"} | extra
    del body["expires_at"]
    return body


def test_a_consent_records_the_statements_and_who_signed(as_user, counselor, patient):
    body = consent_body(patient) | {
        "signer_role": "guardian",
        "signed_by": "Alex Guardian (synthetic)",
        "recipient_address": "1 Court Plaza, Springfield",
    }
    response = as_user(counselor).post(URL, body)
    assert response.status_code == 201, response.json()
    got = response.json()
    assert (got["signer_role"], got["signed_by"]) == ("guardian", "Alex Guardian (synthetic)")
    assert got["redisclosure_statement"] is True
    assert got["treatment_not_conditioned_statement"] is True
    assert got["recipient_address"] == "1 Court Plaza, Springfield"
    assert (got["expiry_event_occurred_at"], got["expiry_event_recorded_by"]) == (None, None)


def test_each_missing_statement_and_the_signer_role_are_named_at_once(as_user, counselor, patient):
    body = consent_body(patient) | {
        "redisclosure_statement": False,
        "treatment_not_conditioned_statement": None,
        "signer_role": "neighbour",
    }
    assert errors_of(as_user(counselor).post(URL, body)) == [
        ("redisclosure_statement", "required"),
        ("signer_role", "invalid_choice"),
        ("treatment_not_conditioned_statement", "required"),
    ]
    assert not Consent.objects.exists()


def test_a_recorded_expiry_event_ends_the_consent(as_user, counselor, supervisor, patient):
    consent = as_user(counselor).post(URL, by_event(patient)).json()
    assert consent["status"] == "active"
    response = as_user(supervisor).post(f"{URL}{consent['id']}/expiry-event/", {})
    assert response.status_code == 200, response.json()
    ended = response.json()
    assert ended["status"] == "expired"
    assert ended["expiry_event_recorded_by"] == str(supervisor.pk)
    assert ended["expiry_event_occurred_at"] is not None
    listed = as_user(counselor).get(URL, {"status": "expired"}).json()["results"]
    assert [c["id"] for c in listed] == [consent["id"]]
    event = AuditEvent.objects.get(action="transition", resource_type="consent")
    assert (event.actor, event.patient_id, event.detail["to"]) == (
        supervisor,
        patient.pk,
        "expired",
    )


def test_an_event_in_the_past_ends_it_from_then(as_user, counselor, patient):
    signed = timezone.now() - timedelta(days=3)
    consent = as_user(counselor).post(URL, by_event(patient, signed_at=signed.isoformat())).json()
    when = timezone.now() - timedelta(days=1)
    response = as_user(counselor).post(
        f"{URL}{consent['id']}/expiry-event/", {"occurred_at": when.isoformat()}
    )
    assert response.status_code == 200
    stored = Consent.objects.get(pk=consent["id"])
    assert abs((stored.expiry_event_occurred_at - when).total_seconds()) < 1


def test_an_event_is_refused_in_the_future_before_signing_or_twice(as_user, counselor, patient):
    api = as_user(counselor)
    consent = api.post(URL, by_event(patient)).json()
    url = f"{URL}{consent['id']}/expiry-event/"
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert errors_of(api.post(url, {"occurred_at": future})) == [("occurred_at", "out_of_range")]
    early = (timezone.now() - timedelta(days=30)).isoformat()
    assert errors_of(api.post(url, {"occurred_at": early})) == [("occurred_at", "out_of_range")]
    assert api.post(url, {}).status_code == 200
    again = api.post(url, {})
    assert (again.status_code, again.json()["code"]) == (409, "already_expired")


def test_a_consent_that_ends_on_a_date_has_no_event_to_record(as_user, counselor, patient):
    consent = as_user(counselor).post(URL, consent_body(patient)).json()
    response = as_user(counselor).post(f"{URL}{consent['id']}/expiry-event/", {})
    assert (response.status_code, response.json()["code"]) == (409, "no_expiry_event")


def test_a_front_desk_cannot_record_an_event(as_user, counselor, front_desk, patient):
    consent = as_user(counselor).post(URL, by_event(patient)).json()
    response = as_user(front_desk).post(f"{URL}{consent['id']}/expiry-event/", {})
    assert response.status_code == 403
    assert Consent.objects.get(pk=consent["id"]).expiry_event_occurred_at is None


@pytest.mark.django_db(transaction=True)  # the feed serves committed changes only (PostgreSQL)
def test_an_integration_relying_on_it_gets_410_on_its_next_sync(
    as_user, program, supervisor, counselor, patient
):
    integration = integration_for(program, basis="consent")
    body = by_event(
        patient,
        recipient_name="scheduler",
        recipient_client=str(integration.record.pk),
        information=["appointments"],
    )
    consent = as_user(counselor).post(URL, body).json()
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    items, next_sync = walk(integration, FEED, {"updated_since": EPOCH})
    assert len(items) == 1
    as_user(counselor).post(f"{URL}{consent['id']}/expiry-event/", {})
    response = integration.get(next_sync)
    assert (response.status_code, response.json()["code"]) == (410, "sync_expired")
    items, _ = walk(integration, FEED, {"updated_since": EPOCH})
    assert items == []  # nothing more is disclosed under it


def test_the_recorded_event_is_a_new_sealed_state_and_older_consents_still_verify(
    as_user, counselor, patient
):
    consent = as_user(counselor).post(URL, by_event(patient)).json()
    # A consent recorded before the new elements existed: its MAC covers none of them.
    old = Consent.objects.get(pk=consent["id"])
    assert audit_verify().ok
    as_user(counselor).post(f"{URL}{old.pk}/expiry-event/", {})
    assert audit_verify().ok
    Consent.objects.filter(pk=old.pk).update(expiry_event_occurred_at=None)  # undone by hand
    result = audit_verify()
    assert not result.ok and result.first_broken == str(old.pk)
