"""`GET /api/v1/audit-events/`: supervisors read their program's audit log, filtered and
keyset-paginated; nobody writes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditEvent
from tests.conftest import api_for
from tests.factories import PatientFactory

URL = "/api/v1/audit-events/"
FIELDS = {
    "id",
    "occurred_at",
    "actor",
    "client",
    "role",
    "action",
    "resource_type",
    "resource_id",
    "patients",
    "outcome",
    "status_code",
    "request_id",
    "break_glass",
    "detail",
}


def walk(api, params: dict) -> list[dict]:
    """Every event the log lists for `params`, following `next` to the end."""
    response = api.get(URL, params)
    assert response.status_code == 200, response.json()
    rows = list(response.json()["results"])
    while response.json()["next"]:
        response = api.get(response.json()["next"])
        assert response.status_code == 200
        rows += response.json()["results"]
    return rows


@pytest.fixture
def log(as_user, supervisor, counselor, patient, other_patient):
    """The counselor lists patients, reads one and is refused another (off the caseload)."""
    api = as_user(counselor)
    assert api.get("/api/v1/patients/").status_code == 200
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert api.get(f"/api/v1/patients/{other_patient.pk}/").status_code == 404
    return as_user(supervisor)


def test_a_supervisor_reads_each_event_with_the_contract_fields(log, counselor, patient):
    rows = walk(log, {"actor": str(counselor.pk)})
    assert all(set(row) == FIELDS for row in rows)
    read = next(r for r in rows if (r["action"], r["outcome"]) == ("read", "allowed"))
    assert read == read | {
        "actor": str(counselor.pk),
        "client": None,
        "role": "counselor",
        "resource_type": "patient",
        "resource_id": str(patient.pk),
        "patients": [str(patient.pk)],
        "outcome": "allowed",
        "status_code": 200,
        "break_glass": False,
    }
    assert len(read["request_id"]) == 32


@pytest.mark.parametrize("persona", ["counselor", "prescriber", "front_desk"])
def test_every_other_role_is_refused(request, log, persona):
    response = api_for(request.getfixturevalue(persona)).get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_another_programs_supervisor_sees_none_of_it(log, other_program_staff, counselor):
    rows = walk(api_for(other_program_staff), {})
    assert rows  # their own program's events (their sign-up, this very read)
    assert not [r for r in rows if r["actor"] == str(counselor.pk)]
    assert api_for(other_program_staff).get(f"{URL}{rows[0]['id']}/").status_code == 200
    own = AuditEvent.objects.filter(actor=counselor).first()
    assert api_for(other_program_staff).get(f"{URL}{own.pk}/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_log_is_read_only(log, method):
    event = AuditEvent.objects.first()
    target = URL if method == "post" else f"{URL}{event.pk}/"
    assert getattr(log, method)(target, {"action": "read"}).status_code == 405


def test_the_patient_filter_finds_list_pages_that_returned_the_patient(
    log, counselor, patient, other_patient
):
    rows = walk(log, {"patient": str(patient.pk), "actor": str(counselor.pk)})
    assert sorted(r["action"] for r in rows) == ["list", "read"]
    page = next(r for r in rows if r["action"] == "list")
    assert page["patients"] == [str(patient.pk)]
    # The refused read of a patient off the caseload is found under that patient.
    refused = walk(log, {"patient": str(other_patient.pk), "actor": str(counselor.pk)})
    assert [(r["action"], r["outcome"], r["status_code"]) for r in refused] == [
        ("read", "denied", 404)
    ]


def test_a_page_of_many_patients_lists_each(as_user, supervisor, patient, other_patient):
    api = as_user(supervisor)
    api.get("/api/v1/patients/")
    event = AuditEvent.objects.get(actor=supervisor, action="list", resource_type="patient")
    assert event.patient_id is None and event.patient_set_id is not None
    row = api.get(f"{URL}{event.pk}/").json()
    assert row["patients"] == sorted([str(patient.pk), str(other_patient.pk)])
    for someone in (patient, other_patient):
        found = walk(api, {"patient": str(someone.pk), "action": "list"})
        assert str(event.pk) in {r["id"] for r in found}


def test_filters_by_action_outcome_and_time(log, counselor):
    denied = walk(log, {"outcome": "denied", "actor": str(counselor.pk)})
    assert [r["status_code"] for r in denied] == [404]
    listed = walk(log, {"action": "list", "actor": str(counselor.pk)})
    assert {r["resource_type"] for r in listed} == {"patient"}
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert walk(log, {"occurred_after": later}) == []
    assert walk(log, {"occurred_before": later, "actor": str(counselor.pk)})
    assert walk(log, {"client": "00000000-0000-0000-0000-000000000001"}) == []


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"action": "peek"}, "action", "invalid_choice"),
        ({"outcome": "maybe"}, "outcome", "invalid_choice"),
        ({"patient": "not-a-uuid"}, "patient", "invalid"),
        ({"occurred_after": "yesterday"}, "occurred_after", "invalid"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor", "invalid_cursor"),
        ({"page": "2"}, "page", "unknown_parameter"),
        ({"page_size": "0"}, "page_size", "invalid_page_size"),
    ],
)
def test_a_bad_filter_is_named(log, params, field, code):
    response = log.get(URL, params)
    assert response.status_code == 400
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_pages_walk_by_cursor_newest_first_without_gaps_or_repeats(
    as_user, supervisor, counselor, patient
):
    api = as_user(counselor)
    for _ in range(7):
        api.get(f"/api/v1/patients/{patient.pk}/")
    reader = as_user(supervisor)
    expected = list(
        AuditEvent.objects.filter(actor=counselor)
        .order_by("-occurred_at", "-id")
        .values_list("id", flat=True)
    )
    pages = []
    response = reader.get(URL, {"actor": str(counselor.pk), "page_size": 3})
    while True:
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        pages.append([r["id"] for r in body["results"]])
        if body["next"] is None:
            break
        assert "cursor=" in body["next"] and "offset" not in body["next"]
        response = reader.get(body["next"])
    assert [i for page in pages for i in page] == [str(i) for i in expected]
    assert len(pages) >= 3
    assert all(len(page) == 3 for page in pages[:-1]) and 0 < len(pages[-1]) <= 3
    # Walking back from the last page returns the page before it.
    back = reader.get(response.json()["previous"]).json()
    assert [r["id"] for r in back["results"]] == pages[-2]


def test_reading_the_log_is_audited_with_the_patient_filtered_on(log, supervisor, patient):
    walk(log, {"patient": str(patient.pk)})
    read = AuditEvent.objects.filter(actor=supervisor, resource_type="auditevent").latest(
        "occurred_at"
    )
    assert (read.action, read.patient_id) == ("list", patient.pk)
    assert read.detail["filters"] == ["patient"]


def test_every_event_of_a_request_carries_its_request_id(as_user, supervisor, patient):
    response = as_user(supervisor).patch(f"/api/v1/patients/{patient.pk}/", {"phone": "555-0101"})
    event = AuditEvent.objects.get(action="update", resource_id=str(patient.pk))
    assert event.request_id == response["X-Request-ID"]
    assert (event.status_code, event.role) == (200, "supervisor")


def test_a_new_patients_create_event_answers_201(as_user, supervisor):
    response = as_user(supervisor).post(
        "/api/v1/patients/",
        {"mrn": "M-77", "given_name": "Ira", "family_name": "Synth", "birth_date": "1990-01-01"},
    )
    event = AuditEvent.objects.get(action="create", resource_id=response.json()["id"])
    assert (event.status_code, event.request_id) == (201, response["X-Request-ID"])


def test_patients_of_other_programs_are_never_resolved_in_a_refusal(
    as_user, counselor, foreign_patient, supervisor
):
    response = as_user(counselor).get(f"/api/v1/patients/{foreign_patient.pk}/")
    assert response.status_code == 404
    event = AuditEvent.objects.get(actor=counselor, outcome="denied")
    assert (event.resource_id, event.patient_id, event.patient_set_id) == (
        str(foreign_patient.pk),
        None,
        None,
    )
    rows = walk(as_user(supervisor), {"patient": str(foreign_patient.pk)})
    assert rows == []


def test_a_missing_id_and_another_programs_id_leave_the_same_trace(
    as_user, counselor, foreign_patient
):
    api = as_user(counselor)
    missing = PatientFactory.build().pk
    api.get(f"/api/v1/patients/{missing}/")
    api.get(f"/api/v1/patients/{foreign_patient.pk}/")
    events = AuditEvent.objects.filter(actor=counselor, outcome="denied").order_by("occurred_at")
    shapes = [(e.action, e.resource_type, e.status_code, e.patient_id, e.detail) for e in events]
    assert len(shapes) == 2 and shapes[0] == shapes[1]
