"""Bad input on every write endpoint: a 400 naming the field, never a 500, nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from caseload.models import Appointment, AuditEvent, CaseNote, Enrollment, Patient, Staff
from tests.factories import PatientFactory, StaffFactory

WRITE_ACTIONS = {"create", "update", "grant", "revoke", "transition", "entered_in_error"}
MODELS = (Patient, Enrollment, CaseNote, Appointment, Staff)
TOO_FAR = "10000-01-01"


def snapshot() -> dict[str, Any]:
    return {
        "counts": {model.__name__: model.objects.count() for model in MODELS},
        "versions": dict(Patient.objects.values_list("id", "version")),
        "audit": set(AuditEvent.objects.values_list("id", flat=True)),
    }


def assert_rejected(response, before: dict[str, Any], field: str | None, code: str) -> None:
    """400 in the one error shape, naming `field` with `code`, and nothing written."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    pairs = [(error.get("field"), error.get("code")) for error in body["errors"]]
    if field is None and code == "parse_error":
        assert body["code"] == "parse_error"
    else:
        assert (field, code) in pairs, body
    after = snapshot()
    assert after["counts"] == before["counts"]
    assert after["versions"] == before["versions"]
    written = (
        AuditEvent.objects.exclude(pk__in=before["audit"])
        .filter(action__in=WRITE_ACTIONS, outcome="allowed")
        .exclude(resource_type="apitoken")  # the test client's own token
    )
    assert list(written.values_list("action", "resource_type")) == []


def send(api, method: str, url: str, payload: Any):
    if isinstance(payload, bytes):
        return getattr(api, method)(url, payload, content_type="application/json")
    return getattr(api, method)(url, payload, format="json")


# Each case: a change applied to a valid body -> (field, code) the error must name.
Case = tuple[Callable[[dict, dict], Any], str | None, str]


def with_(**changes) -> Callable[[dict, dict], dict]:
    return lambda body, refs: body | changes


def with_ref(field: str, ref: str) -> Callable[[dict, dict], dict]:
    return lambda body, refs: body | {field: refs[ref]}


def raw(payload: Any) -> Callable[[dict, dict], Any]:
    return lambda body, refs: payload


FUTURE_DATE = (timezone.localdate() + timedelta(days=30)).isoformat()
COMMON_BODY_CASES: list[tuple[str, Case]] = [
    ("non_json", (raw(b'{"mrn": "A1", '), None, "parse_error")),
    ("json_array", (raw([{"mrn": "A1"}]), None, "invalid")),
    ("json_string", (raw("hello"), None, "invalid")),
    ("json_number", (raw(12), None, "invalid")),
    ("unknown_field", (with_(shoe_size=9), "shoe_size", "unknown_field")),
    ("deeply_nested_json", (raw(b"[" * 100_000 + b"]" * 100_000), None, "parse_error")),
]


def raw_json(member: str, body: dict) -> Callable[[dict, dict], bytes]:
    """A body as raw JSON text, for values no Python object can be encoded into."""
    text = json.dumps({k: v for k, v in body.items() if k != member.split('"')[1]})
    return lambda _body, _refs: (text[:-1] + ", " + member + "}").encode()


def ids(cases: list[tuple[str, Case]]) -> list[str]:
    return [name for name, _ in cases]


# Patients ---------------------------------------------------------------------------------

PATIENT_BODY = {
    "mrn": "BAD-1",
    "given_name": "Drew",
    "family_name": "Synthetic",
    "birth_date": "1990-02-03",
}
PATIENT_CASES: list[tuple[str, Case]] = [
    *COMMON_BODY_CASES,
    ("birth_date_number", (with_(birth_date=12), "birth_date", "invalid")),
    ("birth_date_word", (with_(birth_date="tomorrow"), "birth_date", "invalid")),
    ("birth_date_1800", (with_(birth_date="1800-01-01"), "birth_date", "out_of_range")),
    ("birth_date_future", (with_(birth_date=FUTURE_DATE), "birth_date", "out_of_range")),
    ("birth_date_year_10000", (with_(birth_date=TOO_FAR), "birth_date", "invalid")),
    ("birth_date_datetime", (with_(birth_date="1990-02-03T10:00:00Z"), "birth_date", "invalid")),
    ("birth_date_null", (with_(birth_date=None), "birth_date", "null")),
    ("given_name_list", (with_(given_name=["Drew"]), "given_name", "invalid")),
    ("given_name_object", (with_(given_name={"first": "Drew"}), "given_name", "invalid")),
    ("given_name_bool", (with_(given_name=True), "given_name", "invalid")),
    ("given_name_nul", (with_(given_name="a\u0000b"), "given_name", "null_characters_not_allowed")),
    (
        "given_name_lone_surrogate",
        (
            raw_json('"given_name": "\\ud800"', PATIENT_BODY),
            "given_name",
            "surrogate_characters_not_allowed",
        ),
    ),
    ("given_name_101", (with_(given_name="x" * 101), "given_name", "max_length")),
    ("given_name_blank", (with_(given_name=""), "given_name", "blank")),
    ("mrn_33", (with_(mrn="M" * 33), "mrn", "max_length")),
    ("mrn_nul", (with_(mrn="M\u00001"), "mrn", "null_characters_not_allowed")),
    ("email_malformed", (with_(email="not-an-email"), "email", "invalid")),
    ("last_use_future", (with_(last_use_at="2999-01-01T00:00:00Z"), "last_use_at", "out_of_range")),
    ("last_use_word", (with_(last_use_at="yesterday"), "last_use_at", "invalid")),
    (
        "missing_family_name",
        (
            raw({"mrn": "A", "given_name": "B", "birth_date": "1990-01-01"}),
            "family_name",
            "required",
        ),
    ),
]


@pytest.mark.parametrize("case", [case for _, case in PATIENT_CASES], ids=ids(PATIENT_CASES))
def test_creating_a_patient_with_bad_input_is_a_400_that_writes_nothing(
    case, as_user, supervisor, patient
):
    change, field, code = case
    before = snapshot()
    response = send(as_user(supervisor), "post", "/api/v1/patients/", change(PATIENT_BODY, {}))
    assert_rejected(response, before, field, code)


@pytest.mark.parametrize(
    "case",
    [case for name, case in PATIENT_CASES if name != "missing_family_name"],
    ids=[name for name in ids(PATIENT_CASES) if name != "missing_family_name"],
)
def test_changing_a_patient_with_bad_input_is_a_400_that_changes_nothing(
    case, as_user, counselor, patient
):
    change, field, code = case
    before = snapshot()
    url = f"/api/v1/patients/{patient.pk}/"
    response = send(as_user(counselor), "patch", url, change({}, {}))
    assert_rejected(response, before, field, code)
    assert Patient.objects.get(pk=patient.pk).given_name == "Avery"


# Enrollments ------------------------------------------------------------------------------


@pytest.fixture
def refs(patient, other_patient, foreign_patient, counselor, prescriber, other_program_staff):
    """Ids a bad body may point at, by name."""
    foreign_counselor = StaffFactory(program=other_program_staff.program, role="counselor")
    retired = StaffFactory(program=counselor.program, role="counselor")
    Staff.objects.filter(pk=retired.pk).update(is_active=False)
    return {
        "patient": str(patient.pk),
        "other_patient": str(other_patient.pk),
        "foreign_patient": str(foreign_patient.pk),
        "counselor": str(counselor.pk),
        "prescriber": str(prescriber.pk),
        "foreign_staff": str(other_program_staff.pk),
        "foreign_counselor": str(foreign_counselor.pk),
        "retired_counselor": str(retired.pk),
        "missing": "00000000-0000-0000-0000-000000000000",
    }


ENROLLMENT_CASES: list[tuple[str, Case]] = [
    *COMMON_BODY_CASES,
    ("level_of_care_spa", (with_(level_of_care="spa"), "level_of_care", "invalid_choice")),
    ("status_maybe", (with_(status="maybe"), "status", "invalid_choice")),
    ("status_list", (with_(status=["active"]), "status", "invalid_choice")),
    ("admitted_on_word", (with_(admitted_on="tomorrow"), "admitted_on", "invalid")),
    ("admitted_on_1800", (with_(admitted_on="1800-01-01"), "admitted_on", "out_of_range")),
    ("admitted_on_10000", (with_(admitted_on=TOO_FAR), "admitted_on", "invalid")),
    ("admitted_on_number", (with_(admitted_on=20240101), "admitted_on", "invalid")),
    ("patient_foreign", (with_ref("patient", "foreign_patient"), "patient", "does_not_exist")),
    ("patient_missing", (with_ref("patient", "missing"), "patient", "does_not_exist")),
    ("patient_malformed", (with_(patient="not-a-uuid"), "patient", "invalid")),
    ("patient_object", (with_(patient={"id": 1}), "patient", "invalid")),
    (
        "counselor_foreign_staff",
        (with_ref("counselor", "foreign_staff"), "counselor", "does_not_exist"),
    ),
    (
        "counselor_foreign",
        (with_ref("counselor", "foreign_counselor"), "counselor", "does_not_exist"),
    ),
    (
        "counselor_deactivated",
        (with_ref("counselor", "retired_counselor"), "counselor", "does_not_exist"),
    ),
    ("counselor_malformed", (with_(counselor="123"), "counselor", "invalid")),
    ("counselor_wrong_role", (with_ref("counselor", "prescriber"), "counselor", "wrong_role")),
    (
        "prescriber_foreign",
        (with_ref("prescriber", "foreign_staff"), "prescriber", "does_not_exist"),
    ),
    ("created_discharged", (with_(status="discharged"), "status", "invalid_choice")),
]


@pytest.mark.parametrize("case", [case for _, case in ENROLLMENT_CASES], ids=ids(ENROLLMENT_CASES))
def test_creating_an_enrollment_with_bad_input_is_a_400_that_writes_nothing(
    case, as_user, supervisor, refs
):
    new_patient = PatientFactory(actor=supervisor)  # no open enrollment yet
    body = {
        "patient": str(new_patient.pk),
        "status": "intake",
        "level_of_care": "outpatient",
        "counselor": refs["counselor"],
        "admitted_on": timezone.localdate().isoformat(),
    }
    change, field, code = case
    before = snapshot()
    response = send(as_user(supervisor), "post", "/api/v1/enrollments/", change(body, refs))
    assert_rejected(response, before, field, code)


def test_the_valid_enrollment_body_used_above_is_accepted(as_user, supervisor, refs):
    """Guards the cases above: each fails because of its one change, not the base body."""
    new_patient = PatientFactory(actor=supervisor)
    response = as_user(supervisor).post(
        "/api/v1/enrollments/",
        {
            "patient": str(new_patient.pk),
            "status": "intake",
            "level_of_care": "outpatient",
            "counselor": refs["counselor"],
            "admitted_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 201, response.json()


DISCHARGE_CASES: list[tuple[str, Case]] = [
    ("reason_missing", (raw({}), "discharge_reason", "required")),
    (
        "reason_free_text",
        (with_(discharge_reason="Moved away."), "discharge_reason", "invalid_choice"),
    ),
    ("reason_other_bare", (with_(discharge_reason="other"), "discharge_reason_detail", "required")),
    (
        "detail_nul",
        (
            with_(discharge_reason_detail="a\u0000b"),
            "discharge_reason_detail",
            "null_characters_not_allowed",
        ),
    ),
    (
        "detail_501",
        (with_(discharge_reason_detail="r" * 501), "discharge_reason_detail", "max_length"),
    ),
    ("date_word", (with_(discharged_on="tomorrow"), "discharged_on", "invalid")),
    ("date_before_admission", (with_(discharged_on="2000-01-01"), "discharged_on", "invalid")),
]


@pytest.mark.parametrize("case", [case for _, case in DISCHARGE_CASES], ids=ids(DISCHARGE_CASES))
def test_discharging_with_bad_input_is_a_400_that_writes_nothing(
    case, as_user, supervisor, refs, patient
):
    enrollment = patient.enrollments.get()
    change, field, code = case
    before = snapshot()
    response = send(
        as_user(supervisor),
        "post",
        f"/api/v1/enrollments/{enrollment.pk}/discharge/",
        change({"discharge_reason": "completed"}, refs),
    )
    assert_rejected(response, before, field, code)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.version) == ("active", 1)


# Notes ------------------------------------------------------------------------------------

NOTE_CASES: list[tuple[str, Case]] = [
    *COMMON_BODY_CASES,
    ("body_nul", (with_(body="a\u0000b"), "body", "null_characters_not_allowed")),
    ("body_too_long", (with_(body="b" * 20001), "body", "max_length")),
    ("body_object", (with_(body={"text": "hi"}), "body", "invalid")),
    ("written_at_word", (with_(written_at="tomorrow"), "written_at", "invalid")),
    ("written_at_number", (with_(written_at=12), "written_at", "invalid")),
    ("written_at_future", (with_(written_at="2999-01-01T00:00:00Z"), "written_at", "out_of_range")),
    ("written_at_10000", (with_(written_at="10000-01-01T00:00:00Z"), "written_at", "invalid")),
    ("written_at_1800", (with_(written_at="1800-01-01T00:00:00Z"), "written_at", "out_of_range")),
    ("patient_off_caseload", (with_ref("patient", "other_patient"), "patient", "does_not_exist")),
    ("patient_foreign", (with_ref("patient", "foreign_patient"), "patient", "does_not_exist")),
    ("patient_malformed", (with_(patient="zzzz"), "patient", "invalid")),
    ("patient_null", (with_(patient=None), "patient", "null")),
]


@pytest.mark.parametrize("case", [case for _, case in NOTE_CASES], ids=ids(NOTE_CASES))
def test_writing_a_note_with_bad_input_is_a_400_that_writes_nothing(case, as_user, counselor, refs):
    body = {
        "patient": refs["patient"],
        "written_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "body": "Talked about sleep. (synthetic)",
    }
    change, field, code = case
    before = snapshot()
    response = send(as_user(counselor), "post", "/api/v1/notes/", change(body, refs))
    assert_rejected(response, before, field, code)


# Appointments -----------------------------------------------------------------------------

APPOINTMENT_CASES: list[tuple[str, Case]] = [
    *COMMON_BODY_CASES,
    ("kind_party", (with_(kind="party"), "kind", "invalid_choice")),
    ("status_maybe", (with_(status="maybe"), "status", "invalid_choice")),
    ("start_word", (with_(start="tomorrow"), "start", "invalid")),
    ("start_number", (with_(start=12), "start", "invalid")),
    ("start_10000", (with_(start="10000-01-01T00:00:00Z"), "start", "invalid")),
    ("start_far_future", (with_(start="2999-01-01T00:00:00Z"), "start", "out_of_range")),
    ("start_year_1_east", (with_(start="0001-01-01T00:00:00+14:00"), "start", "overflow")),
    ("start_year_9999_west", (with_(start="9999-12-31T23:59:59-14:00"), "start", "overflow")),
    ("start_1800", (with_(start="1800-01-01T00:00:00Z"), "start", "out_of_range")),
    (
        "end_before_start",
        (lambda body, refs: body | {"end": body["start"]}, "end", "end_before_start"),
    ),
    ("location_nul", (with_(location="Room\u00001"), "location", "null_characters_not_allowed")),
    ("location_201", (with_(location="L" * 201), "location", "max_length")),
    ("patient_off_caseload", (with_ref("patient", "other_patient"), "patient", "does_not_exist")),
    ("patient_foreign", (with_ref("patient", "foreign_patient"), "patient", "does_not_exist")),
    ("patient_malformed", (with_(patient="1234-abcd"), "patient", "invalid")),
    ("staff_foreign", (with_ref("staff", "foreign_staff"), "staff", "does_not_exist")),
    ("staff_deactivated", (with_ref("staff", "retired_counselor"), "staff", "does_not_exist")),
    ("staff_malformed", (with_(staff="not-a-uuid"), "staff", "invalid")),
]


@pytest.mark.parametrize(
    "case", [case for _, case in APPOINTMENT_CASES], ids=ids(APPOINTMENT_CASES)
)
def test_booking_an_appointment_with_bad_input_is_a_400_that_writes_nothing(
    case, as_user, counselor, refs
):
    start = timezone.now() + timedelta(days=2)
    body = {
        "patient": refs["patient"],
        "staff": refs["counselor"],
        "kind": "counseling",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=50)).isoformat(),
    }
    change, field, code = case
    before = snapshot()
    response = send(as_user(counselor), "post", "/api/v1/appointments/", change(body, refs))
    assert_rejected(response, before, field, code)


def test_the_valid_bodies_used_above_are_accepted(as_user, counselor, refs):
    api = as_user(counselor)
    start = timezone.now() + timedelta(days=2)
    note = api.post(
        "/api/v1/notes/",
        {
            "patient": refs["patient"],
            "written_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "body": "Talked about sleep. (synthetic)",
        },
    )
    appointment = api.post(
        "/api/v1/appointments/",
        {
            "patient": refs["patient"],
            "staff": refs["counselor"],
            "kind": "counseling",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=50)).isoformat(),
        },
    )
    assert (note.status_code, appointment.status_code) == (201, 201)


# List filters -----------------------------------------------------------------------------

EXTREME_DATETIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("value", EXTREME_DATETIMES)
@pytest.mark.parametrize("name", ["start_after", "start_before", "updated_since"])
def test_a_datetime_filter_at_the_edge_of_the_calendar_never_answers_500(
    name, value, as_user, counselor, patient
):
    api = as_user(counselor)
    api.client.raise_request_exception = False
    response = api.get("/api/v1/appointments/", {name: value})
    assert response.status_code in {200, 400}, (response.status_code, response.content[:200])
    if response.status_code == 400:
        assert name in [error["field"] for error in response.json()["errors"]]
