"""Background work. Tasks are thin: take ids, re-fetch, call one service; safe to repeat."""

from caseload.services import appointments, audit_chain
from config.celery import app


@app.task(
    name="caseload.tasks.appointment_plan_reminder",
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def appointment_plan_reminder_task(appointment_id: str) -> str | None:
    appointment = appointments.appointment_plan_reminder(appointment_id=appointment_id)
    if appointment is None or appointment.reminder_due_at is None:
        return None
    return appointment.reminder_due_at.isoformat()


@app.task(name="caseload.tasks.appointments_queue_due_reminders")
def appointments_queue_due_reminders() -> int:
    return appointments.appointments_queue_due_reminders()


@app.task(name="caseload.tasks.audit_seal")
def audit_seal() -> int:
    """Append the audit events committed since the last run to the hash chain."""
    return audit_chain.audit_seal()
