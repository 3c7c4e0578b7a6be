"""Appointments: booking, rescheduling, the status machine, and the reminders they need.

Every change writes its reminder rows and an outbox event in its own transaction.

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
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseload.dates import CLOCK_SKEW
from caseload.errors import Conflict, Forbidden, InvalidInput
from caseload.models import (
    Appointment,
    AppointmentStatus,
    AuditAction,
    Patient,
    Staff,
    WebhookEvent,
)
from caseload.permissions import SCHEDULER, SystemActor, is_system

from .follow_ups import follow_up_for_noshow
from .records import ExpectedVersion, record_create, record_update, require_status
from .reminders import reminder_first_due, reminders_cancel, reminders_plan
from .webhooks import outbox_record_appointment

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
        fields["reminder_due_at"] = reminder_first_due(fields["start"], now)
        # The patient's program, for good: a patient never changes program (migration 0021
        # makes the database refuse any other).
        fields["program_id"] = patient.program_id
        appointment = record_create(model=Appointment, actor=actor, patient=patient, **fields)
        reminders_plan(appointment=appointment, now=now)
        outbox_record_appointment(appointment=appointment, event=WebhookEvent.APPOINTMENT_CREATED)
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

    guard = partial(_check_reschedule, changes=dict(changes))
    changes = dict(changes)
    if "start" in changes:
        changes["reminder_due_at"] = reminder_first_due(changes["start"])
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
            reminders_plan(appointment=updated)
        outbox_record_appointment(appointment=updated, event=WebhookEvent.APPOINTMENT_UPDATED)
    return updated


def _check_reschedule(current: Appointment, *, changes: dict[str, Any]) -> None:
    """On the locked row: only a booked appointment moves, to valid times, and without a
    clash unless one is allowed."""
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


def appointment_transition(
    *,
    appointment: Appointment,
    actor: Staff | SystemActor,
    to: str,
    reason: str = "",
    expected_version: ExpectedVersion = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment to `to`; 409 `illegal_transition` when its status does not allow it.

    Cancelling needs a reason. A no-show can be recorded only once the appointment has started.
    The scheduler records no-shows and nothing else.
    """
    _check_transition(actor, to, reason)
    now = now or timezone.now()

    guard = partial(_check_move, to=to, now=now)
    changes: dict[str, Any] = {"status": to}
    if to == S.CANCELLED:
        changes["cancellation_reason"] = reason.strip()
    with transaction.atomic():
        updated = record_update(
            instance=appointment,
            actor=actor,
            changes=changes,
            expected_version=expected_version,
            guard=guard,
            action=AuditAction.TRANSITION,
        )
        if to == S.CANCELLED:
            reminders_cancel(appointment=updated)
            outbox_record_appointment(appointment=updated, event=WebhookEvent.APPOINTMENT_CANCELLED)
        else:
            outbox_record_appointment(appointment=updated, event=WebhookEvent.APPOINTMENT_UPDATED)
    return updated


def _check_move(current: Appointment, *, to: str, now: datetime) -> None:
    """On the locked row: the status allows the move, and a no-show follows the start."""
    require_status(current, TRANSITIONS[to], to)
    if to == S.NOSHOW and current.start > now:
        raise Conflict(
            "A no-show is recorded only after the appointment's start.",
            code="not_started",
            field="status",
        )


def _check_transition(actor: Staff | SystemActor, to: str, reason: str) -> None:
    if to not in TRANSITIONS:
        raise InvalidInput(f"Unknown status {to}.", field="status", code="invalid_choice")
    if is_system(actor) and to != S.NOSHOW:
        raise Forbidden("The scheduler records no-shows only.", field="status")
    if to == S.CANCELLED and not reason.strip():
        raise InvalidInput("Say why the appointment is cancelled.", field="reason", code="required")


def appointments_mark_noshows(*, now: datetime | None = None, limit: int = 500) -> int:
    """Mark appointments still booked CASELOAD_NOSHOW_GRACE_MINUTES after their end as no-shows,
    through the same transition the API uses, and give the counselor a follow-up."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.CASELOAD_NOSHOW_GRACE_MINUTES)
    overdue = list(
        Appointment.objects.filter(status=S.BOOKED, end__lte=cutoff)
        .order_by("end")
        .values_list("pk", flat=True)[:limit]
    )
    marked = 0
    for appointment_id in overdue:
        appointment = Appointment.objects.filter(pk=appointment_id).first()
        if appointment is None:
            continue
        try:
            with transaction.atomic():
                updated = appointment_transition(
                    appointment=appointment, actor=SCHEDULER, to=S.NOSHOW, now=now
                )
                follow_up_for_noshow(appointment=updated)
        except Conflict:  # moved on meanwhile (arrived, cancelled)
            continue
        marked += 1
    return marked


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
