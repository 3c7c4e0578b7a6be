"""Appointments: booking, rescheduling, the status machine, and the reminders they need.

    booked ──arrive──▶ arrived ──fulfil──▶ fulfilled
      │ ╲
      │  ╲──no-show (once the start has passed)──▶ noshow
      └──cancel (with a reason)──▶ cancelled

An appointment is created `booked`; its status then moves only through
`appointment_transition`, checked on the locked row. Only a booked appointment can be
rescheduled or edited. A staff member cannot be booked into two overlapping appointments unless
the booking says the overlap is deliberate (a group session); the check runs with the staff
row locked, so two racing bookings cannot both pass it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseload.dates import CLOCK_SKEW
from caseload.errors import Conflict, InvalidInput
from caseload.models import Appointment, AppointmentStatus, Patient, Staff

from .records import ExpectedVersion, record_create, record_update, require_status

S = AppointmentStatus
# Statuses that occupy the staff member's time.
ACTIVE_STATUSES = (S.BOOKED, S.ARRIVED)
# Which statuses each move may start from.
TRANSITIONS: dict[str, set[str]] = {
    S.ARRIVED: {S.BOOKED},
    S.FULFILLED: {S.ARRIVED},
    S.CANCELLED: {S.BOOKED},
    S.NOSHOW: {S.BOOKED},
}
LONGEST_APPOINTMENT = timedelta(hours=24)
SCHEDULE_FIELDS = {"staff", "start", "end"}


def appointment_create(
    *,
    actor: Staff | None,
    patient: Patient,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> Appointment:
    """Book an appointment; it starts `booked`, in the future, without clashing.

    `now` is the booking time, for loading a history of earlier bookings (demo data, imports).
    """
    fields = dict(fields)
    status = fields.pop("status", S.BOOKED)
    if status != S.BOOKED:
        raise InvalidInput(
            "An appointment is created booked; use the status endpoints afterwards.",
            field="status",
            code="invalid_choice",
        )
    _check_times(fields["start"], fields["end"], now=now)
    _check_staff(patient, fields["staff"])
    with transaction.atomic():
        _lock_staff(fields["staff"])
        _check_overlap(
            staff=fields["staff"],
            start=fields["start"],
            end=fields["end"],
            overlap_allowed=fields.get("overlap_allowed", False),
            exclude=None,
        )
        appointment = record_create(model=Appointment, actor=actor, patient=patient, **fields)
        _plan_reminder_on_commit(appointment)
    return appointment


def appointment_update(
    *,
    appointment: Appointment,
    actor: Staff,
    changes: dict[str, Any],
    expected_version: ExpectedVersion,
) -> Appointment:
    """Reschedule or edit a booked appointment; status moves through its own endpoints."""
    if "status" in changes:
        raise InvalidInput(
            "Status changes through the arrive, fulfil, cancel and no-show endpoints.",
            field="status",
            code="read_only",
        )
    if "staff" in changes:
        _check_staff(appointment.patient, changes["staff"])

    def guard(current: Appointment) -> None:
        require_status(current, {S.BOOKED}, "rescheduled or edited")
        merged = {f: getattr(current, f) for f in (*SCHEDULE_FIELDS, "overlap_allowed")}
        merged |= changes
        if {"start", "end"} & set(changes):
            _check_times(merged["start"], merged["end"])
        if (SCHEDULE_FIELDS | {"overlap_allowed"}) & set(changes):
            _check_overlap(
                staff=merged["staff"],
                start=merged["start"],
                end=merged["end"],
                overlap_allowed=merged["overlap_allowed"],
                exclude=current.pk,
            )

    with transaction.atomic():
        _lock_staff(changes.get("staff", appointment.staff))
        updated = record_update(
            instance=appointment,
            actor=actor,
            changes=changes,
            expected_version=expected_version,
            guard=guard,
        )
        if "start" in changes:
            _plan_reminder_on_commit(updated)
    return updated


def appointment_transition(
    *,
    appointment: Appointment,
    actor: Staff | None,
    to: str,
    reason: str = "",
    expected_version: ExpectedVersion = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment to `to`; 409 `illegal_transition` when its status does not allow it.

    Cancelling needs a reason. A no-show can be recorded only once the appointment has started.
    """
    if to not in TRANSITIONS:
        raise InvalidInput(f"Unknown status {to}.", field="status", code="invalid_choice")
    if to == S.CANCELLED and not reason.strip():
        raise InvalidInput("Say why the appointment is cancelled.", field="reason", code="required")
    now = now or timezone.now()

    def guard(current: Appointment) -> None:
        require_status(current, TRANSITIONS[to], to)
        if to == S.NOSHOW and current.start > now:
            raise Conflict(
                "A no-show is recorded only after the appointment's start.",
                code="not_started",
                field="status",
            )

    changes: dict[str, Any] = {"status": to}
    if to == S.CANCELLED:
        changes["cancellation_reason"] = reason.strip()
    return record_update(
        instance=appointment,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=guard,
        action="transition",
    )


def appointment_plan_reminder(*, appointment_id, now: datetime | None = None) -> Appointment | None:
    """Record when a booked, future appointment's reminder falls due. Idempotent.

    `reminder_due_at` is served, so setting it is a change like any other: it goes through
    `record_update` (version, `updated_at`, change history and the sync feed all move).
    """
    now = now or timezone.now()
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        return None
    due = max(appointment.start - settings.CASELOAD_REMINDER_LEAD, now)
    if not _needs_reminder(appointment, due, now):
        return appointment
    planned: dict[str, Any] = {}

    def guard(current: Appointment) -> None:
        # Checked again on the locked row: the appointment may have moved meanwhile.
        if not _needs_reminder(current, due, now):
            raise _NothingToPlan(current)
        planned["due"] = due

    try:
        return record_update(
            instance=appointment,
            actor=None,
            changes={"reminder_due_at": due, "reminder_queued_at": None},
            guard=guard,
            action="reminder_planned",
            audit_detail={"due_at": due.isoformat()},
        )
    except _NothingToPlan as unchanged:
        return unchanged.appointment


class _NothingToPlan(Exception):
    def __init__(self, appointment: Appointment):
        super().__init__("nothing to plan")
        self.appointment = appointment


def _needs_reminder(appointment: Appointment, due: datetime, now: datetime) -> bool:
    return (
        appointment.status == AppointmentStatus.BOOKED
        and appointment.start > now
        and appointment.reminder_due_at != due
    )


def appointments_queue_due_reminders(*, now: datetime | None = None) -> int:
    """Mark every due reminder of a booked appointment as queued for sending; returns the count."""
    now = now or timezone.now()
    return Appointment.objects.filter(
        status=AppointmentStatus.BOOKED,
        reminder_due_at__lte=now,
        reminder_queued_at__isnull=True,
        start__gt=now,
    ).update(reminder_queued_at=now)


def _plan_reminder_on_commit(appointment: Appointment) -> None:
    from caseload.tasks import appointment_plan_reminder_task

    appointment_id = str(appointment.pk)
    transaction.on_commit(lambda: appointment_plan_reminder_task.delay(appointment_id))


def _check_staff(patient: Patient, staff: Staff) -> None:
    if staff.program_id != patient.program_id or not staff.is_active:
        raise InvalidInput(
            "No such staff member in this program.", field="staff", code="does_not_exist"
        )


def _check_times(start: datetime, end: datetime, now: datetime | None = None) -> None:
    if start < (now or timezone.now()) - CLOCK_SKEW:
        raise InvalidInput("An appointment is booked in the future.", field="start", code="in_past")
    if end <= start:
        raise InvalidInput("end must be after start.", field="end", code="end_before_start")
    if end - start > LONGEST_APPOINTMENT:
        raise InvalidInput("An appointment lasts at most 24 hours.", field="end", code="too_long")


def _lock_staff(staff: Staff) -> None:
    """Bookings of one staff member run one at a time (row lock until commit)."""
    Staff.objects.select_for_update().filter(pk=staff.pk).values_list("pk").get()


def _check_overlap(
    *, staff: Staff, start: datetime, end: datetime, overlap_allowed: bool, exclude
) -> None:
    if overlap_allowed:
        return
    clash = (
        Appointment.objects.filter(
            staff=staff, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
        )
        .exclude(pk=exclude)
        .exists()
    )
    if clash:
        raise Conflict(
            "The staff member is already booked at that time; send overlap_allowed: true if "
            "the overlap is deliberate (a group session).",
            code="overlapping_booking",
            field="start",
        )
