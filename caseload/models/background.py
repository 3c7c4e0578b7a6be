"""Background work: reminders, follow-ups, alerts, and the outbox that feeds webhooks."""

import uuid

from django.conf import settings
from django.db import models


class ReminderChannel(models.TextChoices):
    NONE = "none", "No reminders"
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (no channel or address)"
    CANCELLED = "cancelled", "Cancelled (rescheduled or cancelled appointment)"


class Reminder(models.Model):
    """One reminder of one appointment start at one lead time; a reschedule makes a new row.

    `idempotency_key` is unique and is handed to the delivery backend, so a send retried after a
    crash carries the same key. The row is locked while it is sent, so two copies of the task
    cannot both send it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(
        "caseload.Appointment", on_delete=models.PROTECT, related_name="reminders"
    )
    lead_minutes = models.PositiveIntegerField()
    appointment_start = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    # The channel of the last attempt (the patient's choice at the time).
    channel = models.CharField(
        max_length=10, choices=ReminderChannel.choices, default=ReminderChannel.NONE
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "lead_minutes", "appointment_start"],
                name="reminder_one_per_start_and_lead",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReminderStatus.values), name="reminder_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"reminder {self.id}"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class FollowUpReason(models.TextChoices):
    NOSHOW = "noshow", "Missed appointment"
    PLAN_REVIEW = "plan_review", "Treatment plan review due"


class FollowUp(models.Model):
    """Work for a counselor: a missed appointment (`noshow`), or a treatment plan whose review
    fell due (`plan_review`, one per plan and due date)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="follow_ups"
    )
    appointment = models.ForeignKey(
        "caseload.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    treatment_plan = models.ForeignKey(
        "caseload.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    # The review date a plan_review follow-up is for.
    due_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=FollowUpReason.choices, default="noshow")
    status = models.CharField(
        max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        # The list's order, so a page reads rows in index order (no sort of the whole list).
        indexes = [models.Index(fields=["staff", "-created_at", "id"], name="followup_list_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "reason"], name="follow_up_one_per_appointment_reason"
            ),
            models.UniqueConstraint(
                fields=["treatment_plan", "due_on"],
                condition=models.Q(treatment_plan__isnull=False),
                name="follow_up_one_per_plan_review",
            ),
            # Each follow-up names what it is about.
            models.CheckConstraint(
                condition=models.Q(reason="noshow", appointment__isnull=False)
                | models.Q(
                    reason="plan_review", treatment_plan__isnull=False, due_on__isnull=False
                ),
                name="follow_up_names_its_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"follow-up {self.id}"


class AlertKind(models.TextChoices):
    COWS_SEVERE = "cows_severe", "COWS moderately severe or severe"
    WITHDRAWAL_CRITERIA = "withdrawal_criteria", "Withdrawal checklist meets criteria"
    BREAK_GLASS = "break_glass", "A clinician broke the glass"


# Alerts about a withdrawal finding, raised by an assessment.
WITHDRAWAL_ALERT_KINDS = (AlertKind.COWS_SEVERE, AlertKind.WITHDRAWAL_CRITERIA)


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    # The finding it stood for no longer stands (its assessment was entered in error).
    CLOSED = "closed", "Closed"


class Alert(models.Model):
    """A withdrawal finding for the patient's prescriber (or a supervisor when none), or a
    break-the-glass opening for each supervisor of the program."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("caseload.Patient", on_delete=models.PROTECT, related_name="alerts")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    # What raised it: an assessment (withdrawal kinds) or a break-the-glass opening.
    assessment = models.ForeignKey(
        "caseload.Assessment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    break_glass = models.ForeignKey(
        "caseload.BreakGlass", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=600, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        # The list's order, so a page reads rows in index order (no sort of the whole list).
        indexes = [models.Index(fields=["recipient", "-created_at", "id"], name="alert_list_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=models.Q(status="open", kind__in=WITHDRAWAL_ALERT_KINDS),
                name="alert_one_open_per_patient_kind",
            ),
            models.UniqueConstraint(
                fields=["break_glass", "recipient"],
                condition=models.Q(break_glass__isnull=False),
                name="alert_one_per_break_glass_recipient",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=WITHDRAWAL_ALERT_KINDS, assessment__isnull=False)
                    | models.Q(kind=AlertKind.BREAK_GLASS, break_glass__isnull=False)
                ),
                name="alert_names_what_raised_it",
            ),
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_at__isnull=False)
                | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                name="alert_closed_with_time",
            ),
        ]

    def __str__(self) -> str:
        return f"alert {self.id}"


class OutboxEvent(models.Model):
    """An event written in the transaction of the change it describes; relayed after commit."""

    id = models.BigAutoField(primary_key=True)
    program = models.ForeignKey("caseload.Program", on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(relayed_at__isnull=True),
                name="outbox_unrelayed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.id}"


class WebhookEvent(models.TextChoices):
    APPOINTMENT_CREATED = "appointment.created", "appointment.created"
    APPOINTMENT_UPDATED = "appointment.updated", "appointment.updated"
    APPOINTMENT_CANCELLED = "appointment.cancelled", "appointment.cancelled"


class WebhookSubscription(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(
        "caseload.Program", on_delete=models.PROTECT, related_name="webhooks"
    )
    # The integration client of the program this subscription delivers to.
    client = models.ForeignKey(
        "caseload.IntegrationClient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhooks",
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    # The Standard Webhooks signing secret (`whsec_<base64 key>`), encrypted by
    # caseload/secret_box.py; shown to the caller in the clear only when made.
    secret_encrypted = models.TextField()
    # After a rotation the previous secret signs too, until `previous_secret_until`.
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"webhook {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (gave up)"
    # Nothing left: at the moment of sending the client could not lawfully receive it.
    WITHHELD = "withheld", "Withheld (no legal basis to disclose)"


class WithheldReason(models.TextChoices):
    NO_CLIENT = "no_client", "The subscription names no integration client"
    CLIENT_DISABLED = "client_disabled", "The integration client is disabled"
    OTHER_PROGRAM = "other_program", "The client belongs to another program"
    NO_SCOPE = "no_scope", "The client lacks the appointments:read scope"
    NO_CONSENT = "no_consent", "No active consent names the client and covers appointments"


class WebhookDelivery(models.Model):
    """One event to one subscription: its attempts, the last answer, and when to try next."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    withheld_reason = models.CharField(max_length=20, choices=WithheldReason.choices, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhook_delivery_one_per_event"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"delivery {self.id}"
