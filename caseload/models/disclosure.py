import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from caseload.tamper import TamperEvident


class DisclosureBasis(models.TextChoices):
    CONSENT = "consent"  # the patient's written consent (42 CFR 2.31)
    QSOA = "qsoa"  # a qualified service organization agreement (42 CFR 2.11, 2.12(c)(4))


class Disclosure(TamperEvident, models.Model):
    """One disclosure of one patient's records to someone outside the program: the ledger the
    patient's accounting of disclosures is read from (42 CFR 2.24/2.25, HIPAA 164.528).

    Append-only: on PostgreSQL UPDATE, DELETE and TRUNCATE are refused by trigger.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey("caseload.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("caseload.Patient", on_delete=models.PROTECT, related_name="+")
    disclosed_at = models.DateTimeField(default=timezone.now)
    recipient_name = models.CharField(max_length=200)
    client = models.UUIDField(null=True, blank=True, db_column="client_id", db_index=True)
    information = models.JSONField()
    purpose = models.TextField(max_length=2000)
    basis = models.CharField(max_length=10, choices=DisclosureBasis.choices)
    consent = models.ForeignKey(
        "caseload.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True)
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
                condition=models.Q(basis__in=DisclosureBasis.values), name="disclosure_basis_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(basis=DisclosureBasis.CONSENT)
                | models.Q(consent__isnull=False),
                name="disclosure_consent_named",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure {self.pk}"
