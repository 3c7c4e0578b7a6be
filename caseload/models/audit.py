"""The audit log: append-only events, the patient sets list pages return, and the seal chain.

On PostgreSQL every table here refuses UPDATE, DELETE and TRUNCATE (a trigger installed by
migration 0006); the seal chain (`AuditSeal`) makes any change made around the trigger
detectable by `manage.py verify_audit_chain`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .fields import UUIDListField


class AuditAction(models.TextChoices):
    LIST = "list"
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    ENTERED_IN_ERROR = "entered_in_error"
    TRANSITION = "transition"
    EXPORT = "export"
    DISCLOSE = "disclose"
    GRANT = "grant"
    REVOKE = "revoke"
    BREAK_GLASS = "break_glass"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    PATIENT_ACCESS = "patient_access"  # a copy of the record given to the patient (2.23)


class AuditOutcome(models.TextChoices):
    ALLOWED = "allowed"
    DENIED = "denied"


class AuditPatientSet(models.Model):
    """The patients one list page returned, stored once however many pages return the same set.

    A counselor who reloads a 500-row page a thousand times writes a thousand narrow events
    pointing at one set, not a thousand copies of 500 ids. `digest` is the SHA-256 of the
    sorted ids, so a set is found by its content. On PostgreSQL `patients` is a `uuid[]` with a
    GIN index (migration 0006) that serves the audit log's `patient` filter.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField()
    patients = UUIDListField()

    def __str__(self) -> str:
        return f"{self.size} patients ({self.digest[:12]})"


class AuditEvent(models.Model):
    """One access to, change of, or refusal of access to protected information. Append-only.

    An event names at most one patient directly (`patient`: a read or write of one record) or a
    set of them (`patient_set`: a list page); `patients` gives the ids either way.

    On PostgreSQL the table is partitioned by month of `occurred_at` and its database key is
    `(id, occurred_at)`; `id` stays the model's primary key (caseload/partitions.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now)
    program = models.ForeignKey(
        "caseload.Program", null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The integration client that made the request; integration clients are not staff. The
    # column is named as a foreign key would name it, so one can take its place.
    client = models.UUIDField(null=True, blank=True, db_column="client_id", db_index=True)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    resource_type = models.CharField(max_length=40, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        "caseload.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_set = models.ForeignKey(
        AuditPatientSet, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(
        max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.ALLOWED
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    break_glass = models.BooleanField(default=False)
    detail = models.JSONField(default=dict, blank=True)
    # The writing transaction's id (PostgreSQL fills it by trigger; 0 elsewhere). The sealer
    # uses it to know which events can no longer be joined by a late-committing transaction.
    txid = models.BigIntegerField(default=0, editable=False)
    # HMAC of the event and its patients under the audit key (caseload/tamper.py).
    mac = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["program", "-occurred_at", "-id"], name="audit_program_time"),
            models.Index(fields=["patient", "-occurred_at"], name="audit_patient_time"),
            models.Index(fields=["patient_set", "-occurred_at"], name="audit_set_time"),
            models.Index(fields=["txid"], name="audit_txid"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="audit_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=AuditOutcome.values), name="audit_outcome_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(patient__isnull=True) | models.Q(patient_set__isnull=True),
                name="audit_one_patient_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.resource_type} {self.resource_id}"


class SealKind(models.TextChoices):
    AUDIT_EVENT = "auditevent"
    DISCLOSURE = "disclosure"
    CONSENT = "consent"
    BREAK_GLASS = "breakglass"


class AuditSeal(models.Model):
    """One link of the seal chain: a row (or, for consents and openings, one state of a row)
    at `position`, chained to every link before it.

    `chain` = HMAC(audit key, previous chain || kind || row id || row MAC); see
    caseload/services/audit_chain.py. Seals are written by a periodic task (`audit_seal`), never
    by the request that writes the row, so requests do not queue on the chain's head. `row_id`
    is deliberately not a foreign key: a deleted row leaves its seal behind, and the verifier
    names it.
    """

    position = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=20, choices=SealKind.choices)
    row_id = models.UUIDField()
    row_mac = models.CharField(max_length=64)
    chain = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "row_id", "row_mac"], name="audit_seal_one_per_row_state"
            ),
        ]
        indexes = [models.Index(fields=["kind", "row_id", "-position"], name="audit_seal_row")]

    def __str__(self) -> str:
        return f"#{self.position} {self.kind} {self.row_id}"


class AuditSealRun(models.Model):
    """One run of the sealer: which positions it sealed, the transaction horizon it used, and
    the database cluster it ran on (a restore onto another cluster starts the horizon over)."""

    id = models.BigAutoField(primary_key=True)
    sealed_at = models.DateTimeField(default=timezone.now)
    horizon = models.BigIntegerField(default=0)
    system_identifier = models.CharField(max_length=40, blank=True)
    first_position = models.BigIntegerField(null=True)
    last_position = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"seal run {self.id}"
