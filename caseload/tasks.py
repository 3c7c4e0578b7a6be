"""Background work. Tasks are thin: take ids, re-fetch, call one service; safe to repeat.

Services send tasks by name (caseload.queue), so they never import this module. Every task here
is idempotent, so all run with acks_late and reject_on_worker_lost (settings): a message whose
worker died is delivered again rather than lost. No task is scheduled with an ETA: retries are
times stored on rows, which beat re-scans.
"""

from celery import shared_task

from caseload.services import (
    appointments,
    audit_chain,
    audit_partitions,
    reminders,
    treatment_plans,
    webhooks,
)


@shared_task(name="caseload.tasks.reminders_send_due")
def reminders_send_due() -> int:
    return reminders.reminders_send_due()


@shared_task(name="caseload.tasks.reminder_send")
def reminder_send(reminder_id: str) -> str | None:
    reminder = reminders.reminder_send(reminder_id=reminder_id)
    return None if reminder is None else reminder.status


@shared_task(name="caseload.tasks.appointments_mark_noshows")
def appointments_mark_noshows() -> int:
    return appointments.appointments_mark_noshows()


@shared_task(name="caseload.tasks.treatment_plans_follow_up_due")
def treatment_plans_follow_up_due() -> int:
    return treatment_plans.treatment_plans_follow_up_due()


@shared_task(name="caseload.tasks.outbox_relay")
def outbox_relay() -> int:
    return webhooks.outbox_relay()


@shared_task(name="caseload.tasks.webhooks_deliver_due")
def webhooks_deliver_due() -> int:
    return webhooks.webhooks_deliver_due()


@shared_task(name="caseload.tasks.webhook_deliver")
def webhook_deliver(delivery_id: str) -> str | None:
    delivery = webhooks.webhook_deliver(delivery_id=delivery_id)
    return None if delivery is None else delivery.status


@shared_task(name="caseload.tasks.audit_seal")
def audit_seal() -> int:
    """Append the audit events, ledger rows, consent and opening states committed since the
    last run to the keyed seal chain."""
    return audit_chain.audit_seal()


@shared_task(name="caseload.tasks.audit_partitions_ahead")
def audit_partitions_ahead() -> int:
    """Make the audit log's and the ledger's monthly partitions three months ahead (PostgreSQL);
    returns how many were made."""
    return len(audit_partitions.partitions_ahead().get("created", []))
