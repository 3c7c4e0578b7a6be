"""Break the glass: a clinician reads a patient off their caseload for a few hours with a stated
reason, never writes, never crosses programs; every request under it is marked; supervisors
review each opening."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from caseload.models import Alert, AuditEvent, BreakGlass, CaseNote, Patient, Staff
from tests.factories import CaseNoteFactory, StaffFactory


def open_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/break-glass/"


QUEUE = "/api/v1/break-glass/"
REASON = {"reason": "Covering the crisis line; the assigned counselor is away."}
CRISIS_REASON = {"reason": "Covering a crisis call for a colleague."}


@pytest.fixture
def note(counselor, patient):
    return CaseNoteFactory(actor=counselor, patient=patient, body="Check-in, stable.")


@pytest.fixture
def opened(as_user, other_counselor, patient, note):
    """`other_counselor` (not on the patient's caseload) broke the glass for `patient`."""
    api = as_user(other_counselor)
    response = api.post(open_url(patient), REASON)
    assert response.status_code == 201, response.json()
    return api, response.json()


def test_opening_answers_the_access_and_its_expiry(opened, patient, other_counselor):
    _, body = opened
    assert set(body) == {"id", "patient", "expires_at"}
    assert body["patient"] == str(patient.pk)
    access = BreakGlass.objects.get(pk=body["id"])
    assert (access.staff, access.reason) == (other_counselor, REASON["reason"])
    assert abs(access.expires_at - (timezone.now() + timedelta(hours=4))) < timedelta(minutes=1)


def test_the_hours_come_from_the_setting(as_user, other_counselor, patient, settings):
    settings.CASELOAD_BREAK_GLASS_HOURS = 1
    response = as_user(other_counselor).post(open_url(patient), REASON)
    access = BreakGlass.objects.get(pk=response.json()["id"])
    assert abs(access.expires_at - access.opened_at - timedelta(hours=1)) < timedelta(seconds=1)


def test_the_patient_becomes_readable_and_each_request_is_marked(opened, patient, note):
    api, body = opened
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert api.get(f"/api/v1/patients/{patient.pk}/history/").status_code == 200
    notes = api.get("/api/v1/notes/", {"patient": str(patient.pk)})
    assert [n["id"] for n in notes.json()["results"]] == [str(note.pk)]
    assert str(patient.pk) in {p["id"] for p in api.get("/api/v1/patients/").json()["results"]}
    events = AuditEvent.objects.exclude(pk__in=before)
    assert events.count() == 4
    assert all(e.break_glass and e.detail["break_glass"] == [body["id"]] for e in events)


def test_the_opening_itself_is_audited(opened, other_counselor, patient):
    _, body = opened
    event = AuditEvent.objects.get(action="break_glass")
    assert (event.actor, event.patient_id, event.resource_id) == (
        other_counselor,
        patient.pk,
        body["id"],
    )
    assert (event.break_glass, event.outcome, event.status_code) == (True, "allowed", 201)


def test_requests_about_the_clinicians_own_caseload_are_not_marked(
    opened, as_user, other_counselor, other_patient
):
    api, _ = opened
    assert api.get(f"/api/v1/patients/{other_patient.pk}/").status_code == 200
    event = AuditEvent.objects.filter(actor=other_counselor, action="read").latest("occurred_at")
    assert event.break_glass is False


def test_the_access_is_read_only(opened, patient, note):
    api, _ = opened
    patched = api.patch(f"/api/v1/patients/{patient.pk}/", {"phone": "555-0199"})
    assert patched.status_code == 403
    assert patched.json()["code"] == "break_glass_read_only"
    created = api.post(
        "/api/v1/notes/",
        {"patient": str(patient.pk), "body": "Spoke.", "written_at": timezone.now().isoformat()},
    )
    assert created.status_code == 403
    assert created.json()["errors"] == [
        {
            "field": "patient",
            "code": "break_glass_read_only",
            "detail": "Break-the-glass access is read-only.",
        }
    ]
    corrected = api.post(f"/api/v1/notes/{note.pk}/entered-in-error/", {"reason": "Wrong."})
    assert corrected.status_code == 403
    assert Patient.objects.get(pk=patient.pk).phone != "555-0199"
    assert CaseNote.objects.filter(patient=patient).count() == 1
    assert CaseNote.objects.get(pk=note.pk).status == "final"
    refused = AuditEvent.objects.filter(outcome="denied", status_code=403)
    assert refused.count() == 3
    assert all(e.break_glass and e.patient_id == patient.pk for e in refused)


def test_expiry_is_honoured_on_the_next_request_without_a_job(
    as_user, other_counselor, patient, note, settings
):
    settings.CASELOAD_BREAK_GLASS_HOURS = 1 / 3600  # one second
    api = as_user(other_counselor)
    assert api.post(open_url(patient), REASON).status_code == 201
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    time.sleep(1.2)
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 404
    assert api.get(f"/api/v1/notes/{note.pk}/").status_code == 404
    assert api.get("/api/v1/notes/", {"patient": str(patient.pk)}).json()["results"] == []


def test_a_reason_is_required(as_user, other_counselor, patient):
    api = as_user(other_counselor)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = api.post(open_url(patient), body)
        assert response.status_code == 400, body
        assert [e["field"] for e in response.json()["errors"]] == ["reason"]
    assert not BreakGlass.objects.exists()


@pytest.mark.parametrize("reason", ["x", "Crisis.", "  nineteen chars ok  ", "a" * 19])
def test_a_reason_a_reviewer_can_judge_is_twenty_characters_or_more(
    as_user, other_counselor, patient, reason
):
    response = as_user(other_counselor).post(open_url(patient), {"reason": reason})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("reason", "too_short")]
    assert not BreakGlass.objects.exists()
    assert as_user(other_counselor).post(open_url(patient), {"reason": "a" * 20}).status_code == 201


def test_every_supervisor_of_the_program_is_alerted_and_the_reason_is_audited(
    as_user, other_counselor, supervisor, program, patient, other_program
):
    second = StaffFactory(username="second.supervisor", program=program, role="supervisor")
    away = StaffFactory(username="away.supervisor", program=program, role="supervisor")
    Staff.objects.filter(pk=away.pk).update(is_active=False)
    StaffFactory(username="hillside.supervisor", program=other_program, role="supervisor")
    body = as_user(other_counselor).post(open_url(patient), REASON).json()
    for reader in (supervisor, second):
        (alert,) = as_user(reader).get("/api/v1/alerts/").json()["results"]
        assert (alert["kind"], alert["break_glass"], alert["patient"], alert["assessment"]) == (
            "break_glass",
            body["id"],
            str(patient.pk),
            None,
        )
    alerted = set(
        Alert.objects.filter(kind="break_glass").values_list("recipient__username", flat=True)
    )
    assert alerted == {supervisor.username, second.username}
    event = AuditEvent.objects.get(action="break_glass")
    assert event.detail["reason"] == REASON["reason"]
    log = as_user(supervisor).get("/api/v1/audit-events/", {"action": "break_glass"}).json()
    assert [e["resource_id"] for e in log["results"]] == [body["id"]]


@pytest.mark.parametrize("hours", ["25", "0", "-1", "100"])
def test_the_service_refuses_to_start_with_more_than_a_day(hours):
    import subprocess
    import sys

    probe = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "CASELOAD_BREAK_GLASS_HOURS": hours},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode != 0
    assert "CASELOAD_BREAK_GLASS_HOURS" in probe.stderr


def test_an_opening_longer_than_a_day_is_refused_even_if_settings_were_changed(
    as_user, other_counselor, patient, settings
):
    from caseload.services.break_glass import break_glass_open

    settings.CASELOAD_BREAK_GLASS_HOURS = 48
    with pytest.raises(ImproperlyConfigured):
        break_glass_open(actor=other_counselor, patient=patient, reason=REASON["reason"])
    assert not BreakGlass.objects.exists()


@pytest.mark.postgres
def test_an_opening_is_append_only_in_the_database(opened, supervisor):
    _, body = opened
    for statement in (
        "UPDATE caseload_breakglass SET reason = 'tidied' WHERE id = %s",
        "UPDATE caseload_breakglass SET expires_at = expires_at + interval '1 day' WHERE id = %s",
        "DELETE FROM caseload_breakglass WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="caseload: "),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [body["id"]])
    reviewed = as_user_review(supervisor, body["id"])
    assert reviewed.status_code == 200, reviewed.json()
    with (
        pytest.raises(DatabaseError, match="caseload: "),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE caseload_breakglass SET review_note = 'rewritten' WHERE id = %s", [body["id"]]
        )
    assert BreakGlass.objects.get(pk=body["id"]).reason == REASON["reason"]


def as_user_review(supervisor, access_id):
    from tests.conftest import api_for

    return api_for(supervisor).post(f"{QUEUE}{access_id}/review/", {"note": "Justified."})


@pytest.mark.parametrize("persona", ["front_desk", "supervisor", "other_program_staff"])
def test_only_clinicians_break_the_glass(request, as_user, patient, persona):
    response = as_user(request.getfixturevalue(persona)).post(open_url(patient), REASON)
    assert response.status_code == 403
    assert not BreakGlass.objects.exists()


def test_a_patient_on_the_caseload_needs_no_glass_broken(as_user, counselor, patient):
    response = as_user(counselor).post(open_url(patient), REASON)
    assert response.status_code == 409
    assert response.json()["code"] == "on_caseload"


def test_a_clinician_of_another_program_cannot_open_this_programs_patient(
    as_user, other_program, patient
):
    stranger = StaffFactory(username="hillside.counselor", program=other_program, role="counselor")
    response = as_user(stranger).post(open_url(patient), REASON)
    assert response.status_code == 404
    assert not BreakGlass.objects.exists()


def test_a_break_glass_row_never_opens_another_programs_patient(
    as_user, other_counselor, foreign_patient
):
    """Even an access recorded around the service (a bad import) cannot cross programs."""
    expires_at = timezone.now() + timedelta(hours=4)
    Staff.objects.filter(pk=other_counselor.pk).update(break_glass_until=expires_at)
    BreakGlass.objects.create(
        program=other_counselor.program,
        patient=foreign_patient,
        staff=other_counselor,
        reason="Forged.",
        opened_at=timezone.now(),
        expires_at=expires_at,
    )
    api = as_user(other_counselor)
    assert api.get(f"/api/v1/patients/{foreign_patient.pk}/").status_code == 404
    assert str(foreign_patient.pk) not in {
        p["id"] for p in api.get("/api/v1/patients/").json()["results"]
    }


def test_supervisors_review_each_opening_once(opened, as_user, supervisor):
    _, body = opened
    api = as_user(supervisor)
    queue = api.get(QUEUE, {"reviewed": "false"}).json()["results"]
    assert [row["id"] for row in queue] == [body["id"]]
    assert queue[0]["active"] is True and queue[0]["reason"] == REASON["reason"]
    assert api.post(f"{QUEUE}{body['id']}/review/", {}).status_code == 400
    reviewed = api.post(f"{QUEUE}{body['id']}/review/", {"note": "Justified: crisis cover."})
    assert reviewed.status_code == 200, reviewed.json()
    assert reviewed.json()["reviewed_by"] == str(supervisor.pk)
    assert reviewed.json()["review_note"] == "Justified: crisis cover."
    again = api.post(f"{QUEUE}{body['id']}/review/", {"note": "Twice."})
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    assert api.get(QUEUE, {"reviewed": "false"}).json()["results"] == []
    assert [r["id"] for r in api.get(QUEUE, {"reviewed": "true"}).json()["results"]] == [body["id"]]
    events = AuditEvent.objects.filter(action="update", resource_type="breakglass")
    assert sorted(events.values_list("outcome", "status_code")) == [
        ("allowed", 200),
        ("denied", 409),
    ]


@pytest.mark.parametrize("persona", ["counselor", "other_counselor", "prescriber", "front_desk"])
def test_only_supervisors_see_the_queue(request, opened, as_user, persona):
    api = as_user(request.getfixturevalue(persona))
    assert api.get(QUEUE).status_code == 403
    _, body = opened
    assert api.post(f"{QUEUE}{body['id']}/review/", {"note": "Mine."}).status_code == 403
