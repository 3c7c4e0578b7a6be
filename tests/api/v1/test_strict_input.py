"""Bodies are taken as sent or refused: read-only fields, types and every failing field at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import Assessment, AuditEvent, CaseNote, Patient, Referral
from tests.domain_reference import cows_items
from tests.factories import PERSONA_PASSWORD, CaseNoteFactory


def an_hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def errors_of(response) -> list[tuple[str | None, str]]:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert (body["code"], body["detail"]) == ("validation_error", "Invalid input.")
    return sorted((error["field"], error["code"]) for error in body["errors"])


def note_body(patient, **extra) -> dict:
    return {"patient": str(patient.pk), "written_at": an_hour_ago(), "body": "Check-in."} | extra


def cows_body(patient, items=None, **extra) -> dict:
    return {
        "patient": str(patient.pk),
        "instrument": "cows",
        "items": cows_items(14) if items is None else items,
        "administered_at": an_hour_ago(),
    } | extra


# Read-only and computed fields: one rule for create and update -----------------------------


def test_a_computed_total_sent_on_create_is_refused_not_dropped(as_user, counselor, patient):
    response = as_user(counselor).post(
        "/api/v1/assessments/", cows_body(patient, total_score=48), format="json"
    )
    assert errors_of(response) == [("total_score", "read_only")]
    assert not Assessment.objects.exists()


def test_even_the_computed_total_the_server_would_store_is_refused_on_create(
    as_user, counselor, patient
):
    # On create the server holds no value yet, so no read-only value can agree with it.
    response = as_user(counselor).post(
        "/api/v1/assessments/", cows_body(patient, total_score=14), format="json"
    )
    assert errors_of(response) == [("total_score", "read_only")]


def test_a_referral_created_with_a_status_is_refused(as_user, counselor, patient):
    body = {
        "patient": str(patient.pk),
        "group": "smart_recovery",
        "referred_on": timezone.localdate().isoformat(),
        "status": "completed",
    }
    response = as_user(counselor).post("/api/v1/referrals/", body, format="json")
    assert errors_of(response) == [("status", "read_only")]
    assert not Referral.objects.exists()


def test_a_note_created_entered_in_error_is_refused(as_user, counselor, patient):
    body = note_body(patient, status="entered_in_error", entered_in_error_reason="x")
    response = as_user(counselor).post("/api/v1/notes/", body, format="json")
    assert errors_of(response) == [
        ("entered_in_error_reason", "read_only"),
        ("status", "read_only"),
    ]
    assert not CaseNote.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "8ce79bdd-0000-4000-8000-000000000000"), ("version", 1), ("program", "riverside")],
)
def test_ids_and_server_fields_sent_on_create_are_refused(as_user, supervisor, field, value):
    body = {
        "mrn": "RO-1",
        "given_name": "Drew",
        "family_name": "Synthetic",
        "birth_date": "1990-02-03",
        field: value,
    }
    response = as_user(supervisor).post("/api/v1/patients/", body, format="json")
    assert errors_of(response) == [(field, "read_only")]
    assert not Patient.objects.filter(mrn="RO-1").exists()


def test_on_update_a_read_only_field_sent_back_as_read_is_ignored(as_user, counselor, patient):
    api = as_user(counselor)
    note = CaseNoteFactory(actor=counselor, patient=patient)
    url = f"/api/v1/notes/{note.pk}/"
    read = api.get(url).json()
    response = api.patch(
        url, {"body": "Amended.", "status": read["status"], "id": read["id"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["body"] == "Amended."


def test_on_update_a_read_only_field_sent_with_a_new_value_is_refused(as_user, counselor, patient):
    note = CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).patch(
        f"/api/v1/notes/{note.pk}/", {"status": "entered_in_error"}, format="json"
    )
    assert errors_of(response) == [("status", "read_only")]
    assert CaseNote.objects.get(pk=note.pk).status == "final"


# Types: strings are strings, ids are UUID strings --------------------------------------------


def test_a_number_is_not_a_note_body(as_user, counselor, patient):
    response = as_user(counselor).post("/api/v1/notes/", note_body(patient, body=12345))
    assert errors_of(response) == [("body", "invalid")]
    assert response.json()["errors"][0]["detail"] == "Not a valid string."
    assert not CaseNote.objects.exists()


def test_a_number_is_not_a_patient_id(as_user, counselor, patient):
    response = as_user(counselor).post("/api/v1/notes/", note_body(patient) | {"patient": 5})
    assert errors_of(response) == [("patient", "invalid")]
    assert response.json()["errors"][0]["detail"] == "Must be a valid UUID string."


@pytest.mark.parametrize("value", [12, 1.5, True, ["Drew"], {"x": 1}])
def test_a_name_must_be_a_json_string(as_user, supervisor, value):
    body = {"mrn": "T-1", "given_name": value, "family_name": "S", "birth_date": "1990-01-01"}
    response = as_user(supervisor).post("/api/v1/patients/", body, format="json")
    assert errors_of(response) == [("given_name", "invalid")]


@pytest.mark.parametrize("value", [12, 1.5, True, ["M-1"]])
def test_text_on_an_update_must_be_a_string_too(as_user, counselor, patient, value):
    response = as_user(counselor).patch(
        f"/api/v1/patients/{patient.pk}/", {"phone": value}, format="json"
    )
    assert errors_of(response) == [("phone", "invalid")]


def test_a_staff_id_must_be_a_uuid_string(as_user, counselor, patient):
    start = timezone.now() + timedelta(days=1)
    body = {
        "patient": str(patient.pk),
        "staff": counselor.pk.int,  # the same id as a number
        "kind": "counseling",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    response = as_user(counselor).post("/api/v1/appointments/", body, format="json")
    assert errors_of(response) == [("staff", "invalid")]


def test_a_correction_reason_must_be_a_string(as_user, counselor, patient):
    note = CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).post(
        f"/api/v1/notes/{note.pk}/entered-in-error/", {"reason": 404}, format="json"
    )
    assert errors_of(response) == [("reason", "invalid")]
    assert CaseNote.objects.get(pk=note.pk).status == "final"


def test_a_token_name_must_be_a_string(as_user, counselor):
    response = as_user(counselor).post(
        "/api/v1/tokens/", {"name": 7, "password": PERSONA_PASSWORD}, format="json"
    )
    assert errors_of(response) == [("name", "invalid")]


def test_an_unknown_key_in_a_nested_result_is_named_by_its_path(as_user, counselor, patient):
    body = {
        "patient": str(patient.pk),
        "collected_at": an_hour_ago(),
        "method": "presumptive",
        "results": [{"substance": "opiates", "result": "negative", "extra": 1}],
    }
    response = as_user(counselor).post("/api/v1/drug-screens/", body, format="json")
    assert errors_of(response) == [("results.0.extra", "unknown_field")]


# Every failing field at once -----------------------------------------------------------------


def test_a_future_time_and_illegal_items_are_reported_together(as_user, counselor, patient):
    items = cows_items(0) | {"restlessness": 2}
    del items["gooseflesh"]
    body = cows_body(patient, items=items, administered_at="2999-01-01T00:00:00Z")
    response = as_user(counselor).post("/api/v1/assessments/", body, format="json")
    assert errors_of(response) == [
        ("administered_at", "out_of_range"),
        ("items.gooseflesh", "missing_item"),
        ("items.restlessness", "invalid_choice"),
    ]
    assert not Assessment.objects.exists()


def test_every_stage_of_checking_reports_in_one_answer(as_user, counselor, patient):
    body = cows_body(
        patient,
        items=cows_items(0) | {"sweating": 9},
        administered_at="yesterday",
        total_score=3,
        shoe_size=9,
    ) | {"patient": 5}
    response = as_user(counselor).post("/api/v1/assessments/", body, format="json")
    assert errors_of(response) == [
        ("administered_at", "invalid"),
        ("items.sweating", "invalid_choice"),
        ("patient", "invalid"),
        ("shoe_size", "unknown_field"),
        ("total_score", "read_only"),
    ]


def test_items_are_not_checked_against_an_unknown_instrument(as_user, counselor, patient):
    body = cows_body(patient, instrument="cowz", items={"anything": 1})
    response = as_user(counselor).post("/api/v1/assessments/", body, format="json")
    assert errors_of(response) == [("instrument", "invalid_choice")]


def test_a_note_with_several_bad_fields_names_each(as_user, counselor, patient):
    body = {"patient": "zzzz", "written_at": 12, "body": ["x"], "author": str(counselor.pk)}
    response = as_user(counselor).post("/api/v1/notes/", body, format="json")
    assert errors_of(response) == [
        ("author", "read_only"),
        ("body", "invalid"),
        ("patient", "invalid"),
        ("written_at", "invalid"),
    ]


def test_a_refused_body_writes_nothing_and_audits_no_write(as_user, counselor, patient):
    api = as_user(counselor)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    api.post("/api/v1/notes/", note_body(patient, body=1, status="final"))
    written = AuditEvent.objects.exclude(pk__in=before).filter(action="create")
    assert not written.exists()
    assert not CaseNote.objects.exists()
