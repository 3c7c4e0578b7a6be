"""Appointment reminders: one row per appointment start and lead time, sent at most once.

Booking (or rescheduling) writes the rows in its own transaction; a reschedule cancels the rows
of the old start and writes new ones, a cancellation cancels them. Beat finds the rows that
are due and sends each by id. `reminder_send` locks its row for the whole send, so a second
copy of the task waits and then finds it sent; a worker that dies mid-send rolls the lock back
and the row is sent by the next scan, with the same idempotency key.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from caseload.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderChannel,
    ReminderStatus,
)
from caseload.queue import enqueue
from caseload.sms import SmsError, sms_backend

logger = logging.getLogger(__name__)
SEND_TASK = "caseload.tasks.reminder_send"


def reminder_leads() -> list[timedelta]:
    return list(settings.CASELOAD_REMINDER_LEADS)


def reminder_first_due(start: datetime, now: datetime | None = None) -> datetime:
    """When the earliest reminder of an appointment starting at `start` falls due."""
    now = now or timezone.now()
    return max(start - max(reminder_leads()), min(now, start))


def reminders_plan(*, appointment: Appointment, now: datetime | None = None) -> list[Reminder]:
    """Write the reminder rows for the appointment's current start; cancel those of any other.

    Call inside the transaction that books or reschedules the appointment.
    """
    now = now or timezone.now()
    Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING).exclude(
        appointment_start=appointment.start
    ).update(status=ReminderStatus.CANCELLED, updated_at=now)
    if appointment.status != AppointmentStatus.BOOKED or appointment.start <= now:
        return []
    planned = []
    for lead in reminder_leads():
        minutes = int(lead.total_seconds() // 60)
        reminder, _ = Reminder.objects.get_or_create(
            appointment=appointment,
            lead_minutes=minutes,
            appointment_start=appointment.start,
            defaults={
                "due_at": max(appointment.start - lead, now),
                "idempotency_key": _key(appointment, minutes),
            },
        )
        planned.append(reminder)
    return planned


def reminders_cancel(*, appointment: Appointment) -> int:
    """Cancel the appointment's unsent reminders (in the cancelling transaction)."""
    return Reminder.objects.filter(appointment=appointment, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.CANCELLED, updated_at=timezone.now()
    )


def reminders_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send a task for every due, unsent reminder; returns how many. Safe to run any time."""
    now = now or timezone.now()
    due = list(
        Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    for reminder_id in due:
        enqueue(SEND_TASK, str(reminder_id))
    return len(due)


def reminder_send(*, reminder_id, now: datetime | None = None) -> Reminder | None:
    """Send one reminder unless it is already sent, cancelled or skipped. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("appointment__patient__program")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None or reminder.status != ReminderStatus.PENDING:
            return reminder
        appointment = reminder.appointment
        patient = appointment.patient
        if (
            appointment.status != AppointmentStatus.BOOKED
            or appointment.start != reminder.appointment_start
        ):
            return _finish(reminder, ReminderStatus.CANCELLED)
        if appointment.start <= now:
            return _finish(reminder, ReminderStatus.SKIPPED, "The appointment has started.")
        channel = patient.reminder_channel
        reminder.channel = channel
        address = {ReminderChannel.EMAIL: patient.email, ReminderChannel.SMS: patient.phone}.get(
            channel, ""
        )
        if channel == ReminderChannel.NONE:
            return _finish(reminder, ReminderStatus.SKIPPED, "The patient has no reminders.")
        if not address:
            return _finish(reminder, ReminderStatus.SKIPPED, f"No {channel} address on file.")
        reminder.attempts += 1
        return _attempt(reminder, channel, address, now)


def _attempt(reminder: Reminder, channel: str, address: str, now: datetime) -> Reminder:
    """Send the reminder once; a failure is retried until CASELOAD_REMINDER_MAX_ATTEMPTS."""
    body = reminder_text(reminder.appointment)
    try:
        if channel == ReminderChannel.EMAIL:
            _send_email(address, body, reminder.idempotency_key)
        else:
            sms_backend().send(to=address, body=body, idempotency_key=reminder.idempotency_key)
    except (SmsError, smtplib.SMTPException, OSError) as exc:
        logger.warning("reminder %s not sent: %s", reminder.pk, type(exc).__name__)
        failed = reminder.attempts >= settings.CASELOAD_REMINDER_MAX_ATTEMPTS
        status = ReminderStatus.FAILED if failed else ReminderStatus.PENDING
        # The provider's own words can name the address: keep only what went wrong.
        error = f"SmsError: {exc}" if isinstance(exc, SmsError) else type(exc).__name__
        return _finish(reminder, status, error[:500])
    reminder.sent_at = now
    return _finish(reminder, ReminderStatus.SENT, "")


def reminder_text(appointment: Appointment) -> str:
    """The program's neutral wording with the time and place: nothing else about the visit."""
    when = timezone.localtime(appointment.start).strftime("%A %d %B %Y at %H:%M")
    where = f", {appointment.location}" if appointment.location else ""
    return f"{appointment.patient.program.reminder_text} {when}{where}."


def _send_email(address: str, body: str, key: str) -> None:
    message = EmailMessage(
        subject="Appointment reminder",
        body=body,
        to=[address],
        headers={"Message-ID": f"<{key}@caseload.invalid>"},
    )
    message.send(fail_silently=False)


def _finish(reminder: Reminder, status: str, error: str = "") -> Reminder:
    reminder.status = status
    reminder.last_error = error
    reminder.save()
    return reminder


def _key(appointment: Appointment, lead_minutes: int) -> str:
    return f"reminder-{appointment.pk}-{lead_minutes}-{int(appointment.start.timestamp())}"
