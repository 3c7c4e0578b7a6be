"""Writing from the console: the same services as the API, errors on their fields with the
stable codes, nothing half-saved."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from caseload.models import Assessment, AuditAction, AuditEvent, CaseNote
from caseload.services.appointments import appointment_create
from tests.factories import AppointmentFactory

from .conftest import booked_today, console_for

HTMX = {"HTTP_HX_REQUEST": "true"}
COWS = {
    "resting_pulse": 2,
    "sweating": 1,
    "restlessness": 3,
    "pupil_size": 1,
    "bone_joint_aches": 2,
    "runny_nose_tearing": 1,
    "gi_upset": 2,
    "tremor": 1,
    "yawning": 1,
    "anxiety_irritability": 2,
    "gooseflesh": 0,
}


def moment(**delta) -> str:
    return (timezone.localtime() + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


def test_a_cows_is_scored_by_the_server_and_stored(counselor, patient):
    body = {"administered_at": moment(minutes=-5), **COWS}

    response = console_for(counselor).post(
        f"/console/patients/{patient.pk}/assessments/cows/new/", body
    )

    assert response.status_code == 302
    saved = Assessment.objects.get(patient=patient)
    assert (saved.total_score, saved.severity) == (16, "moderate")
    assert saved.administered_by == counselor


def test_a_cows_with_missing_and_illegal_answers_names_each_item_and_saves_nothing(
    counselor, patient
):
    body = {"administered_at": moment(minutes=-5), **COWS, "restlessness": 2}
    del body["gooseflesh"]

    response = console_for(counselor).post(
        f"/console/patients/{patient.pk}/assessments/cows/new/", body
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "[missing_item]" in html and "[invalid_choice]" in html
    assert 'id="id_gooseflesh-errors"' in html and 'id="id_restlessness-errors"' in html
    assert not Assessment.objects.exists()


def test_the_checklist_and_sows_forms_are_built_from_the_instruments(counselor, patient):
    client = console_for(counselor)
    checklist = client.get(f"/console/patients/{patient.pk}/assessments/withdrawal_checklist/new/")
    sows = client.get(f"/console/patients/{patient.pk}/assessments/sows/new/")

    assert checklist.status_code == sows.status_code == 200
    assert checklist.content.count(b'type="checkbox"') == 11
    assert sows.content.count(b'type="radio"') == 16 * 5
    assert client.get(f"/console/patients/{patient.pk}/assessments/gaf/new/").status_code == 404


def test_a_note_is_written_through_the_notes_service(counselor, patient):
    body = {"written_at": moment(minutes=-1), "body": "Talked through the week; plan agreed."}

    response = console_for(counselor).post(f"/console/patients/{patient.pk}/notes/new/", body)

    assert response.status_code == 302
    note = CaseNote.objects.get(patient=patient)
    assert note.author == counselor
    event = AuditEvent.objects.get(resource_type="casenote", action=AuditAction.CREATE)
    assert event.patient_id == patient.pk


def test_an_empty_note_is_refused_on_its_field(counselor, patient):
    response = console_for(counselor).post(
        f"/console/patients/{patient.pk}/notes/new/", {"written_at": moment(), "body": ""}
    )

    assert response.status_code == 400
    assert b'id="id_body-errors"' in response.content and b"[required]" in response.content


def test_a_prescriber_may_not_write_a_note(prescriber, patient):
    assert (
        console_for(prescriber).get(f"/console/patients/{patient.pk}/notes/new/").status_code == 403
    )


def test_a_clashing_booking_is_shown_on_its_field(counselor, patient):
    start = timezone.now() + timedelta(days=3)
    appointment_create(
        actor=counselor,
        patient=patient,
        fields={
            "staff": counselor,
            "kind": "counseling",
            "start": start,
            "end": start + timedelta(hours=1),
        },
    )
    local = timezone.localtime(start)
    body = {
        "staff": counselor.pk,
        "kind": "counseling",
        "start": (local + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "end": (local + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Room 2",
    }

    response = console_for(counselor).post(
        f"/console/patients/{patient.pk}/appointments/new/", body, **HTMX
    )

    assert response.status_code == 409
    assert b'id="id_start-errors"' in response.content
    assert b"[overlapping_booking]" in response.content
    assert patient.appointments.count() == 1


def test_a_booking_by_htmx_sends_the_browser_to_the_patient_page(counselor, patient):
    local = timezone.localtime(timezone.now() + timedelta(days=4))
    body = {
        "staff": counselor.pk,
        "kind": "counseling",
        "start": local.strftime("%Y-%m-%dT%H:%M"),
        "end": (local + timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M"),
    }

    response = console_for(counselor).post(
        f"/console/patients/{patient.pk}/appointments/new/", body, **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/console/patients/{patient.pk}/#appointments"


def test_today_moves_an_appointment_along_with_htmx(counselor, patient):
    appointment = booked_today(actor=counselor, patient=patient, staff=counselor)
    client = console_for(counselor)
    assert patient.family_name.encode() in client.get("/console/").content

    arrived = client.post(
        f"/console/appointments/{appointment.pk}/arrive/", {"version": appointment.version}, **HTMX
    )
    assert arrived.status_code == 200 and b"Arrived" in arrived.content
    appointment.refresh_from_db()
    fulfilled = client.post(
        f"/console/appointments/{appointment.pk}/fulfil/", {"version": appointment.version}, **HTMX
    )

    assert fulfilled.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == "fulfilled"
    assert AuditEvent.objects.filter(action=AuditAction.TRANSITION, actor=counselor).count() == 2


def test_a_stale_row_is_refused_like_a_stale_if_match(counselor, patient):
    appointment = AppointmentFactory(actor=counselor, patient=patient, staff=counselor)

    response = console_for(counselor).post(
        f"/console/appointments/{appointment.pk}/arrive/",
        {"version": appointment.version + 5},
        **HTMX,
    )

    assert response.status_code == 412 and b"[stale_etag]" in response.content
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_cancelling_needs_a_reason(counselor, patient):
    appointment = AppointmentFactory(actor=counselor, patient=patient, staff=counselor)

    response = console_for(counselor).post(
        f"/console/appointments/{appointment.pk}/cancel/", {"reason": " "}, **HTMX
    )

    assert response.status_code == 400 and b"[required]" in response.content


def test_front_desk_changes_contact_details_through_the_patient_service(front_desk, patient):
    body = {
        "phone": "555-0199",
        "email": "",
        "address_line": "1 Test Street",
        "city": "Testville",
        "state": "",
        "postal_code": "",
        "reminder_channel": "sms",
        "version": patient.version,
    }

    response = console_for(front_desk).post(f"/console/patients/{patient.pk}/contact/", body)

    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.reminder_channel) == ("555-0199", "sms")
    event = AuditEvent.objects.filter(actor=front_desk, action=AuditAction.UPDATE).get()
    assert event.patient_id == patient.pk


def test_contact_details_changed_meanwhile_are_not_overwritten(front_desk, patient):
    body = {"phone": "555-0100", "reminder_channel": "none", "version": patient.version + 3}

    response = console_for(front_desk).post(f"/console/patients/{patient.pk}/contact/", body)

    assert response.status_code == 412 and b"[stale_etag]" in response.content
