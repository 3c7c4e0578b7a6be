from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import Appointment, AuditEvent
from tests.concurrency import at_once
from tests.factories import AppointmentFactory, PatientFactory

URL = "/api/v1/appointments/"


def booking(patient, staff, start=None, minutes=50, **overrides) -> dict:
    start = start or timezone.now() + timedelta(days=1)
    return {
        "patient": str(patient.id),
        "staff": str(staff.id),
        "kind": "counseling",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "location": "Room 3",
        **overrides,
    }


def first_error(response) -> tuple[str, str]:
    error = response.json()["errors"][0]
    return error["field"], error["code"]


def test_an_appointment_is_created_booked(as_user, front_desk, counselor, patient):
    response = as_user(front_desk).post(URL, booking(patient, counselor))
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "booked"


@pytest.mark.parametrize("status", ["fulfilled", "cancelled", "arrived", "noshow"])
def test_it_cannot_be_created_in_any_other_status(as_user, front_desk, counselor, patient, status):
    response = as_user(front_desk).post(URL, booking(patient, counselor, status=status))
    assert response.status_code == 400
    assert first_error(response) == ("status", "invalid_choice")
    assert not Appointment.objects.exists()


def test_a_booking_in_the_past_is_refused(as_user, front_desk, counselor, patient):
    past = timezone.now().replace(year=2020)
    response = as_user(front_desk).post(URL, booking(patient, counselor, start=past))
    assert response.status_code == 400
    assert first_error(response) == ("start", "in_past")


def test_a_booking_longer_than_a_day_is_refused(as_user, front_desk, counselor, patient):
    response = as_user(front_desk).post(URL, booking(patient, counselor, minutes=25 * 60))
    assert first_error(response) == ("end", "too_long")


def test_the_same_staff_member_cannot_be_double_booked(
    as_user, front_desk, supervisor, counselor, patient, other_patient
):
    api = as_user(front_desk)
    start = timezone.now() + timedelta(days=1)
    assert api.post(URL, booking(patient, counselor, start=start)).status_code == 201
    clash = api.post(URL, booking(other_patient, counselor, start=start + timedelta(minutes=20)))
    assert clash.status_code == 409
    assert clash.json()["code"] == "overlapping_booking"
    back_to_back = api.post(
        URL, booking(other_patient, counselor, start=start + timedelta(minutes=50))
    )
    assert back_to_back.status_code == 201


def test_a_deliberate_overlap_is_accepted(as_user, front_desk, counselor, patient, other_patient):
    api = as_user(front_desk)
    start = timezone.now() + timedelta(days=1)
    api.post(URL, booking(patient, counselor, start=start, kind="group"))
    group = api.post(
        URL, booking(other_patient, counselor, start=start, kind="group", overlap_allowed=True)
    )
    assert group.status_code == 201, group.json()
    assert group.json()["overlap_allowed"] is True


def test_cancelled_slots_are_free_again_and_stay_visible(
    as_user, front_desk, counselor, patient, other_patient
):
    api = as_user(front_desk)
    start = timezone.now() + timedelta(days=1)
    first = api.post(URL, booking(patient, counselor, start=start)).json()
    cancelled = api.post(f"{URL}{first['id']}/cancel/", {"reason": "Patient asked to move it."})
    assert cancelled.status_code == 200
    assert cancelled.json()["cancellation_reason"] == "Patient asked to move it."
    assert api.post(URL, booking(other_patient, counselor, start=start)).status_code == 201
    listed = api.get(URL, {"patient": str(patient.id)}).json()["results"]
    assert [a["status"] for a in listed] == ["cancelled"]


def test_rescheduling_into_a_clash_is_refused(as_user, front_desk, counselor, patient):
    api = as_user(front_desk)
    start = timezone.now() + timedelta(days=1)
    api.post(URL, booking(patient, counselor, start=start))
    later = api.post(URL, booking(patient, counselor, start=start + timedelta(hours=2))).json()
    moved = api.patch(
        f"{URL}{later['id']}/",
        {"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()},
    )
    assert moved.status_code == 409
    assert moved.json()["code"] == "overlapping_booking"
    assert Appointment.objects.get(pk=later["id"]).version == 1


def test_the_visit_moves_booked_arrived_fulfilled(as_user, front_desk, counselor, patient):
    appointment = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
    api = as_user(counselor)
    assert api.post(f"{URL}{appointment.id}/arrive/").json()["status"] == "arrived"
    assert api.post(f"{URL}{appointment.id}/fulfil/").json()["status"] == "fulfilled"
    events = AuditEvent.objects.filter(action="transition", resource_id=str(appointment.id))
    assert events.count() == 2


@pytest.mark.parametrize(
    ("moves", "illegal"),
    [
        (["cancel"], "arrive"),
        (["cancel"], "fulfil"),
        (["arrive", "fulfil"], "cancel"),
        (["arrive"], "arrive"),
        ([], "fulfil"),
    ],
)
def test_illegal_moves_answer_409(as_user, front_desk, counselor, patient, moves, illegal):
    appointment = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
    api = as_user(front_desk)
    for move in [*moves, illegal]:
        response = api.post(f"{URL}{appointment.id}/{move}/", {"reason": "Asked to."})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_status_never_changes_through_patch(as_user, front_desk, counselor, patient):
    appointment = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
    response = as_user(front_desk).patch(f"{URL}{appointment.id}/", {"status": "fulfilled"})
    assert response.status_code == 400
    assert first_error(response) == ("status", "read_only")


def test_a_closed_appointment_cannot_be_edited(as_user, front_desk, counselor, patient):
    appointment = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
    api = as_user(front_desk)
    api.post(f"{URL}{appointment.id}/cancel/", {"reason": "Asked to."})
    response = api.patch(f"{URL}{appointment.id}/", {"location": "Room 9"})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_cancelling_needs_a_reason(as_user, front_desk, counselor, patient):
    appointment = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
    response = as_user(front_desk).post(f"{URL}{appointment.id}/cancel/", {})
    assert response.status_code == 400
    assert first_error(response) == ("reason", "required")


def test_a_no_show_is_recorded_only_after_the_start(as_user, front_desk, counselor, patient):
    upcoming = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
    response = as_user(front_desk).post(f"{URL}{upcoming.id}/no-show/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_started"
    missed = AppointmentFactory(
        actor=front_desk,
        patient=patient,
        staff=counselor,
        start=timezone.now() + timedelta(minutes=1),
    )
    Appointment.objects.filter(pk=missed.pk).update(
        start=timezone.now() - timedelta(hours=1), end=timezone.now() - timedelta(minutes=10)
    )
    marked = as_user(front_desk).post(f"{URL}{missed.id}/no-show/")
    assert marked.status_code == 200
    assert marked.json()["status"] == "noshow"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_bookings_of_one_slot_let_exactly_one_win(
    as_user, supervisor, front_desk, counselor
):
    apis = [as_user(front_desk), as_user(front_desk)]
    for round_ in range(10):
        start = timezone.now() + timedelta(days=1, hours=round_)
        patients = [PatientFactory(actor=supervisor) for _ in apis]
        statuses = at_once(
            *(
                lambda api=api, p=p, s=start: (
                    api.post(URL, booking(p, counselor, start=s)).status_code
                )
                for api, p in zip(apis, patients, strict=True)
            )
        )
        assert sorted(statuses) == [201, 409]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_arrive_and_cancel_let_exactly_one_win(as_user, front_desk, counselor, patient):
    one, two = as_user(front_desk), as_user(counselor)
    for _ in range(10):
        appointment = AppointmentFactory(actor=front_desk, patient=patient, staff=counselor)
        url = f"{URL}{appointment.id}"
        statuses = at_once(
            lambda u=url: one.post(f"{u}/arrive/").status_code,
            lambda u=url: two.post(f"{u}/cancel/", {"reason": "Asked to."}).status_code,
        )
        assert sorted(statuses) == [200, 409]
