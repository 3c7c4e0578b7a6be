import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from caseload.tamper import TamperEvident


class DisclosureBasis(models.TextChoices):
    CONSENT = "consent"  # the patient's written consent (42 CFR 2.31)
    QSOA = "qsoa"  # a qualified service organization agreement (42 CFR 2.11, 2.12(c)(4))


class LedgerBasis(models.TextChoices):
    """Every legal basis a ledger row may name: the two an integration client may hold
    (`DisclosureBasis`), and the bases of disclosures made outside the system and recorded by a
    supervisor."""

    CONSENT = "consent"  # 42 CFR 2.31
    QSOA = "qsoa"  # 42 CFR 2.11, 2.12(c)(4)
    MEDICAL_EMERGENCY = "medical_emergency"  # 42 CFR 2.51
    COURT_ORDER = "court_order"  # 42 CFR 2.61-2.67
    AUDIT_EVALUATION = "audit_evaluation"  # 42 CFR 2.53
    RESEARCH = "research"  # 42 CFR 2.52


class Disclosure(TamperEvident, models.Model):
    """One disclosure of one patient's records to someone outside the program: the ledger the
    patient's accounting of disclosures is read from (42 CFR 2.24/2.25, HIPAA 164.528).

    Append-only: on PostgreSQL UPDATE, DELETE and TRUNCATE are refused by trigger. There the
    table is partitioned by month of `disclosed_at`, its database key `(id, disclosed_at)`
    (caseload/partitions.py).

    A disclosure made outside the system (a fax, a call in an emergency) is recorded by a
    supervisor afterwards: `recorded_at` says when, and the basis's own fields say what the law
    asks to document (caseload/services/disclosures_off_system.py).
    """

    MAC_WHEN_SET = (
        "recipient_address",
        "emergency",
        "disclosed_by",
        "court_order_reference",
        "recorded_at",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey("caseload.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("caseload.Patient", on_delete=models.PROTECT, related_name="+")
    disclosed_at = models.DateTimeField(default=timezone.now)
    recipient_name = models.CharField(max_length=200)
    client = models.UUIDField(null=True, blank=True, db_column="client_id", db_index=True)
    information = models.JSONField()
    purpose = models.TextField(max_length=2000)
    basis = models.CharField(max_length=20, choices=LedgerBasis.choices)
    consent = models.ForeignKey(
        "caseload.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True)
    # Recorded outside the system only (blank on rows the system wrote as it disclosed).
    recipient_address = models.CharField(max_length=500, blank=True, default="", db_default="")
    emergency = models.TextField(max_length=2000, blank=True, default="", db_default="")
    disclosed_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    court_order_reference = models.CharField(max_length=200, blank=True, default="", db_default="")
    recorded_at = models.DateTimeField(null=True, blank=True)
    # The writing transaction's id (PostgreSQL fills it by trigger; 0 elsewhere): the sealer
    # seals a row once no transaction that could still commit before it is running.
    txid = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        indexes = [
            # The list's order, so a page reads rows in index order (no sort of the whole list).
            models.Index(fields=["-disclosed_at", "-id"], name="disclosure_list_order"),
            models.Index(fields=["patient", "-disclosed_at"], name="disclosure_patient_time"),
            models.Index(fields=["program", "-disclosed_at"], name="disclosure_program_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(basis__in=LedgerBasis.values), name="disclosure_basis_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(basis=DisclosureBasis.CONSENT)
                | models.Q(consent__isnull=False),
                name="disclosure_consent_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(basis=LedgerBasis.MEDICAL_EMERGENCY)
                | (~models.Q(emergency="") & ~models.Q(disclosed_by="")),
                name="disclosure_emergency_documented",
            ),
            models.CheckConstraint(
                condition=~models.Q(basis=LedgerBasis.COURT_ORDER)
                | ~models.Q(court_order_reference=""),
                name="disclosure_court_order_named",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure {self.pk}"
