"""An appointment carries its patient's program (migration 0021): set when it is booked, never
another, and the sync feed of a program answers exactly what it answered when it reached the
program through the patients (docs/performance.md, "Past one primary")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from caseload.models import Appointment
from tests.api.v1.test_appointments import booking as book
from tests.api.v1.test_sync_feed import EPOCH, FEED, walk
from tests.conftest import integration_for
from tests.factories import AppointmentFactory, PatientFactory, StaffFactory

URL = "/api/v1/appointments/"

pytestmark = pytest.mark.django_db(transaction=True)


def booking(patient, staff, hours: int, **extra) -> dict:
    return book(patient, staff, start=timezone.now() + timedelta(days=1, hours=hours), **extra)


def test_a_booking_through_the_api_stores_its_patients_program(
    as_user, front_desk, counselor, patient
):
    response = as_user(front_desk).post(URL, booking(patient, counselor, 1))
    assert response.status_code == 201, response.json()
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert appointment.program_id == patient.program_id
    assert [h.program_id for h in appointment.history.all()] == [patient.program_id]
    assert "program" not in response.json()  # an internal column, not part of the contract


def test_a_program_named_in_the_request_is_refused(
    as_user, front_desk, counselor, patient, other_program
):
    """The program is the patient's, never the client's to choose: the key is unknown."""
    response = as_user(front_desk).post(
        URL, booking(patient, counselor, 2, program=str(other_program.pk))
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == "program"
    assert not Appointment.objects.exists()


def test_rescheduling_and_status_changes_keep_the_program(as_user, front_desk, counselor, patient):
    api = as_user(front_desk)
    booked = api.post(URL, booking(patient, counselor, 3))
    created = booked.json()
    moved = booking(patient, counselor, 5)
    response = api.patch(
        f"{URL}{created['id']}/",
        {"start": moved["start"], "end": moved["end"]},
        HTTP_IF_MATCH=booked["ETag"],
    )
    assert response.status_code == 200, response.json()
    appointment = Appointment.objects.get(pk=created["id"])
    assert appointment.version == 2
    assert {h.program_id for h in appointment.history.all()} == {patient.program_id}


def test_each_programs_feed_answers_what_the_patients_program_gives(
    supervisor, counselor, patient, other_patient, other_counselor, other_program_staff
):
    """Two programs with appointments interleaved in change order: each client's walk is its
    program's appointments as read through their patients, once each, in change order."""
    foreign_counselor = StaffFactory(program=other_program_staff.program, role="counselor")
    foreign = PatientFactory(actor=other_program_staff)
    for _ in range(4):
        AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
        AppointmentFactory(actor=other_program_staff, patient=foreign, staff=foreign_counselor)
        AppointmentFactory(actor=supervisor, patient=other_patient, staff=other_counselor)
    for program in (supervisor.program, other_program_staff.program):
        client = integration_for(program, name=f"sync-{program.code}")
        items, _ = walk(client.api, FEED, {"updated_since": EPOCH, "page_size": 3})
        through_patients = Appointment.objects.filter(patient__program=program)
        assert sorted(i["id"] for i in items) == sorted(str(a.pk) for a in through_patients)
        assert len(items) == through_patients.count() > 0
        seqs = [Appointment.objects.get(pk=i["id"]).change_seq for i in items]
        assert seqs == sorted(seqs)


@pytest.mark.postgres
def test_the_database_refuses_a_program_other_than_the_patients(
    supervisor, counselor, patient, other_program
):
    appointment = AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(program=other_program)
    appointment.refresh_from_db()
    assert appointment.program_id == patient.program_id
