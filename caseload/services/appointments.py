"""Appointments and the reminders they need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseload.errors import InvalidInput
from caseload.models import Appointment, AppointmentStatus, Patient, Staff

from .audit import audit_record
from .records import record_create, record_update


def appointment_create(*, actor: Staff, patient: Patient, fields: dict[str, Any]) -> Appointment:
    _validate(patient=patient, fields=fields)
    with transaction.atomic():
        appointment = record_create(model=Appointment, actor=actor, patient=patient, **fields)
        _plan_reminder_on_commit(appointment)
    return appointment


def appointment_update(
    *,
    appointment: Appointment,
    actor: Staff,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Appointment:
    merged = {"staff": appointment.staff, "start": appointment.start, "end": appointment.end}
    _validate(patient=appointment.patient, fields=merged | changes)
    with transaction.atomic():
        updated = record_update(
            instance=appointment, actor=actor, changes=changes, expected_version=expected_version
        )
        if "start" in changes:
            _plan_reminder_on_commit(updated)
    return updated


def appointment_plan_reminder(*, appointment_id, now: datetime | None = None) -> Appointment | None:
    """Record when a booked, future appointment's reminder falls due. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().filter(pk=appointment_id).first()
        if appointment is None or appointment.status != AppointmentStatus.BOOKED:
            return appointment
        due = max(appointment.start - settings.CASELOAD_REMINDER_LEAD, now)
        if appointment.start <= now or appointment.reminder_due_at == due:
            return appointment
        Appointment.objects.filter(pk=appointment.pk).update(
            reminder_due_at=due, reminder_queued_at=None
        )
        appointment.reminder_due_at = due
        audit_record(
            actor=None,
            action="reminder_planned",
            obj=appointment,
            patient=appointment.patient,
            detail={"due_at": due.isoformat()},
        )
    return appointment


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


def _validate(*, patient: Patient, fields: dict[str, Any]) -> None:
    staff = fields.get("staff")
    if staff is not None and (staff.program_id != patient.program_id or not staff.is_active):
        raise InvalidInput(
            "No such staff member in this program.", field="staff", code="does_not_exist"
        )
    start, end = fields.get("start"), fields.get("end")
    if start and end and end <= start:
        raise InvalidInput("end must be after start.", field="end", code="end_before_start")
