from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseload.models import (
    Appointment,
    Assessment,
    AuditEvent,
    CaseNote,
    DrugScreen,
    Enrollment,
    MedicationRecord,
    Referral,
)
from tests.domain_reference import cows_items
from tests.factories import CaseNoteFactory, EnrollmentFactory, PatientFactory
from tests.history_records import fill_history


def url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/history/"


def ago(**delta) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


@pytest.fixture
def recorded(as_user, counselor, prescriber, patient):
    """One record of each type created over HTTP, each at a distinct time, oldest first."""
    nurse, doctor = as_user(counselor), as_user(prescriber)
    pid = str(patient.id)
    created = {
        "referral": nurse.post(
            "/api/v1/referrals/",
            {"patient": pid, "group": "smart_recovery", "referred_on": days_ago(2)},
        ),
        "medication": doctor.post(
            "/api/v1/medications/",
            {
                "patient": pid,
                "medication": "buprenorphine",
                "dose": "8",
                "dose_unit": "mg",
                "frequency": "once daily",
                "route": "sublingual",
                "start_date": days_ago(1),
            },
        ),
        "assessment": nurse.post(
            "/api/v1/assessments/",
            {
                "patient": pid,
                "instrument": "cows",
                "items": cows_items(0),
                "administered_at": ago(hours=5),
            },
        ),
        "drug_screen": nurse.post(
            "/api/v1/drug-screens/",
            {
                "patient": pid,
                "collected_at": ago(hours=4),
                "method": "presumptive",
                "results": [{"substance": "fentanyl", "result": "positive"}],
            },
        ),
        "note": nurse.post(
            "/api/v1/notes/", {"patient": pid, "written_at": ago(hours=3), "body": "First draft."}
        ),
        "appointment": nurse.post(
            "/api/v1/appointments/",
            {
                "patient": pid,
                "staff": str(counselor.id),
                "kind": "counseling",
                "start": (timezone.now() + timedelta(days=1)).isoformat(),
                "end": (timezone.now() + timedelta(days=1, hours=1)).isoformat(),
            },
        ),
    }
    for kind, response in created.items():
        assert response.status_code == 201, (kind, response.json())
    return {kind: response.json()["id"] for kind, response in created.items()}


def entry_for(body, record_id):
    return next(e for e in body["results"] if e["record"]["id"] == record_id)


def test_prescriber_reads_every_record_type_newest_first(as_user, prescriber, patient, recorded):
    response = as_user(prescriber).get(url(patient))
    assert response.status_code == 200
    body = response.json()
    assert body["patient"] == str(patient.id)
    assert body["count"] == len(body["results"]) == 7
    # The enrollment was admitted three days ago (factory); the rest follow their own times.
    assert [e["type"] for e in body["results"]] == [
        "appointment",
        "note",
        "drug_screen",
        "assessment",
        "medication",
        "referral",
        "enrollment",
    ]
    for kind, record_id in recorded.items():
        assert entry_for(body, record_id)["type"] == kind


def test_each_entry_lists_its_creation_with_who_created_it(
    as_user, counselor, prescriber, patient, recorded
):
    body = as_user(prescriber).get(url(patient)).json()
    for kind, record_id in recorded.items():
        changes = entry_for(body, record_id)["changes"]
        assert [c["type"] for c in changes] == ["created"], kind
        author = prescriber if kind == "medication" else counselor
        assert changes[0]["by"] == str(author.id), kind


def test_changes_name_who_changed_which_fields_newest_first(
    as_user, counselor, prescriber, patient, recorded
):
    note_url = f"/api/v1/notes/{recorded['note']}/"
    assert as_user(counselor).patch(note_url, {"body": "Revised."}).status_code == 200
    medication_url = f"/api/v1/medications/{recorded['medication']}/"
    assert as_user(prescriber).patch(medication_url, {"status": "stopped"}).status_code == 200
    body = as_user(prescriber).get(url(patient)).json()

    note = entry_for(body, recorded["note"])
    assert note["record"]["body"] == "Revised."
    assert [(c["type"], c["by"], c["fields"]) for c in note["changes"]] == [
        ("changed", str(counselor.id), ["body"]),
        ("created", str(counselor.id), []),
    ]
    assert note["changes"][0]["at"] >= note["changes"][1]["at"]
    medication = entry_for(body, recorded["medication"])
    assert [(c["type"], c["by"], c["fields"]) for c in medication["changes"]] == [
        ("changed", str(prescriber.id), ["status"]),
        ("created", str(prescriber.id), []),
    ]


HISTORY_MODELS = {
    "enrollment": Enrollment,
    "assessment": Assessment,
    "medication": MedicationRecord,
    "drug_screen": DrugScreen,
    "referral": Referral,
    "appointment": Appointment,
    "note": CaseNote,
}


def test_the_fields_named_are_simple_historys_own_diff(
    as_user, counselor, prescriber, patient, recorded
):
    """Every change entry names exactly the fields django-simple-history's `diff_against`
    finds between the two versions (less version, updated_at and updated_by)."""
    nurse = as_user(counselor)
    assert nurse.patch(f"/api/v1/notes/{recorded['note']}/", {"body": "Twice."}).status_code == 200
    appointment_url = f"/api/v1/appointments/{recorded['appointment']}/"
    moved = {"location": "Room 9", "start": ago(hours=-30), "end": ago(hours=-31)}
    assert nurse.patch(appointment_url, moved).status_code == 200
    assert nurse.post(f"{appointment_url}cancel/", {"reason": "Ill."}).status_code == 200
    body = as_user(prescriber).get(url(patient)).json()
    changed = 0
    for entry in body["results"]:
        versions = list(
            HISTORY_MODELS[entry["type"]]
            .history.filter(id=entry["record"]["id"])
            .order_by("-history_date")
        )
        expected = [
            sorted(
                c.field
                for c in current.diff_against(previous).changes
                if c.field not in {"version", "updated_at", "updated_by"}
            )
            for current, previous in pairwise(versions)
        ] + [[]]
        assert [c["fields"] for c in entry["changes"]] == expected, entry["type"]
        changed += len(versions) - 1
    assert changed >= 3


def test_a_referral_transition_appears_as_a_status_change(
    as_user, counselor, prescriber, patient, recorded
):
    referral_url = f"/api/v1/referrals/{recorded['referral']}/attending/"
    assert as_user(counselor).post(referral_url).status_code == 200
    changes = entry_for(as_user(prescriber).get(url(patient)).json(), recorded["referral"])[
        "changes"
    ]
    assert changes[0]["type"] == "changed"
    assert changes[0]["by"] == str(counselor.id)
    assert changes[0]["fields"] == ["status", "status_changed_at"]


def test_history_names_the_actor_of_records_created_outside_a_request(
    as_user, counselor, prescriber, patient
):
    """Services take the actor explicitly (commands, tasks, seed_demo): history must keep it."""
    note = CaseNoteFactory(actor=counselor, patient=patient)
    body = as_user(prescriber).get(url(patient)).json()
    assert entry_for(body, str(note.id))["changes"][0]["by"] == str(counselor.id)


def test_entered_in_error_records_stay_in_the_history(
    as_user, counselor, prescriber, patient, recorded
):
    marked = as_user(counselor).post(
        f"/api/v1/assessments/{recorded['assessment']}/entered-in-error/",
        {"reason": "Recorded on the wrong patient."},
    )
    assert marked.status_code == 200
    body = as_user(prescriber).get(url(patient)).json()
    assert body["count"] == 7
    entry = entry_for(body, recorded["assessment"])
    assert entry["record"]["status"] == "entered_in_error"
    assert entry["record"]["entered_in_error_reason"] == "Recorded on the wrong patient."
    assert entry["changes"][0]["fields"] == ["entered_in_error_reason", "status"]


def test_reading_the_history_is_audited(as_user, prescriber, patient):
    assert as_user(prescriber).get(url(patient)).status_code == 200
    event = AuditEvent.objects.get(action="read", detail__view="history")
    assert event.actor == prescriber
    assert event.patient_id == patient.id
    assert (event.resource_type, event.resource_id) == ("patient", str(patient.id))
    assert (event.outcome, event.status_code) == ("allowed", 200)


def test_front_desk_may_not_read_the_history(as_user, front_desk, patient):
    response = as_user(front_desk).get(url(patient))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(outcome="allowed", detail__view="history").exists()
    refused = AuditEvent.objects.get(outcome="denied")
    assert (refused.actor, refused.action, refused.status_code) == (front_desk, "read", 403)
    assert refused.patient_id == patient.id


def test_a_counselor_off_the_caseload_gets_404(as_user, other_counselor, patient):
    assert as_user(other_counselor).get(url(patient)).status_code == 404
    assert not AuditEvent.objects.filter(outcome="allowed", detail__view="history").exists()
    refused = AuditEvent.objects.get(outcome="denied")
    assert (refused.actor, refused.status_code, refused.patient_id) == (
        other_counselor,
        404,
        patient.id,
    )


def test_another_program_gets_404(as_user, other_program_staff, patient):
    assert as_user(other_program_staff).get(url(patient)).status_code == 404


def test_unauthenticated_gets_401(anonymous, patient):
    assert anonymous.get(url(patient)).status_code == 401


def test_query_count_does_not_grow_with_the_length_of_the_history(
    as_user, supervisor, counselor, prescriber, patient
):
    busy = PatientFactory(actor=supervisor)
    EnrollmentFactory(actor=supervisor, patient=busy, counselor=counselor, prescriber=prescriber)
    fill_history(patient, counselor, prescriber, 10)
    fill_history(busy, counselor, prescriber, 200)
    api = as_user(prescriber)
    api.get(url(patient))  # warm caches (content types, permissions) outside the measurement

    counts = {}
    # records, the treatment plan (one per enrollment) and the enrollment
    for who, expected in ((patient, 12), (busy, 202)):
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url(who))
        assert response.status_code == 200
        assert response.json()["count"] == expected
        counts[expected - 2] = len(captured.captured_queries)
        history_reads = [q for q in captured.captured_queries if "_historical" in q["sql"]]
        assert len(history_reads) == 1  # every record type's versions in one query
    print(f"history queries: 10 records -> {counts[10]}, 200 records -> {counts[200]}")
    assert counts[10] == counts[200]


def test_an_unchanged_history_answers_304_to_its_etag_and_the_read_is_audited(
    as_user, prescriber, patient, recorded
):
    doctor = as_user(prescriber)
    first = doctor.get(url(patient))
    etag = first["ETag"]
    again = doctor.get(url(patient), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    statuses = AuditEvent.objects.filter(detail__view="history").values_list("status_code")
    assert sorted(statuses) == [(200,), (304,)]
    # Another tag, or none, reads the whole history.
    assert doctor.get(url(patient), headers={"If-None-Match": '"v1"'}).status_code == 200


def _patch_note(as_user, counselor, prescriber, recorded):
    note = f"/api/v1/notes/{recorded['note']}/"
    return as_user(counselor).patch(note, {"body": "Revised."})


def _referral_transition(as_user, counselor, prescriber, recorded):
    return as_user(counselor).post(f"/api/v1/referrals/{recorded['referral']}/attending/")


def _entered_in_error(as_user, counselor, prescriber, recorded):
    return as_user(counselor).post(
        f"/api/v1/assessments/{recorded['assessment']}/entered-in-error/",
        {"reason": "Recorded on the wrong patient."},
    )


def _new_record(as_user, counselor, prescriber, recorded):
    patient = as_user(counselor).get(f"/api/v1/notes/{recorded['note']}/").json()["patient"]
    body = {"patient": patient, "written_at": ago(hours=1), "body": "Second note."}
    return as_user(counselor).post("/api/v1/notes/", body)


@pytest.mark.parametrize(
    "change", [_patch_note, _referral_transition, _entered_in_error, _new_record]
)
def test_any_change_to_the_history_makes_the_old_etag_answer_200(
    as_user, counselor, prescriber, patient, recorded, change
):
    doctor = as_user(prescriber)
    old = doctor.get(url(patient))["ETag"]
    assert change(as_user, counselor, prescriber, recorded).status_code in (200, 201)
    fresh = doctor.get(url(patient), headers={"If-None-Match": old})
    assert fresh.status_code == 200
    assert fresh["ETag"] != old
    assert doctor.get(url(patient), headers={"If-None-Match": fresh["ETag"]}).status_code == 304


def test_the_history_etag_differs_by_role(as_user, counselor, prescriber, patient, recorded):
    nurse = as_user(counselor).get(url(patient))["ETag"]
    doctor = as_user(prescriber).get(url(patient))["ETag"]
    assert nurse != doctor
    assert (
        as_user(prescriber).get(url(patient), headers={"If-None-Match": nurse}).status_code == 200
    )
