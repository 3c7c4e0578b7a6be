"""Part 2 consents and the disclosure ledger: the minimal form the integrations need.

These two models carry the contract's field names so that the compliance aggregate (consents
API, accounting of disclosures) can take them over; integrations use them only through
`caseload.permissions.patients_consented_to` and `caseload.services.disclosures`.
"""

import uuid

from django.db import models

from .base import BaseModel


class ConsentCategory(models.TextChoices):
    DEMOGRAPHICS = "demographics", "Demographics"
    APPOINTMENTS = "appointments", "Appointments"
    ENROLLMENTS = "enrollments", "Enrollments"
    ASSESSMENTS = "assessments", "Assessments"
    MEDICATIONS = "medications", "Medications"
    DRUG_SCREENS = "drug_screens", "Drug screens"
    REFERRALS = "referrals", "Referrals"
    NOTES = "notes", "Notes"


class Consent(BaseModel):
    """A patient's written consent to disclose (42 CFR 2.31). Never edited: revoked, replaced."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="consents"
    )
    recipient_name = models.CharField(max_length=200)
    recipient_client = models.ForeignKey(
        "caseload.IntegrationClient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
    )
    purpose = models.CharField(max_length=500)
    information = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()
    revocation_notice = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=False) | ~models.Q(expiry_event=""),
                name="consent_has_expiry",
            ),
        ]
        indexes = [models.Index(fields=["recipient_client", "patient"])]

    def __str__(self) -> str:
        return f"consent {self.pk}"


class Disclosure(models.Model):
    """One disclosure of one patient's information to a recipient. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="disclosures"
    )
    disclosed_at = models.DateTimeField(db_index=True)
    recipient_name = models.CharField(max_length=200)
    client = models.ForeignKey(
        "caseload.IntegrationClient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disclosures",
    )
    information = models.JSONField(default=list)
    purpose = models.CharField(max_length=500)
    basis = models.CharField(max_length=10)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )

    class Meta:
        ordering = ["-disclosed_at"]
        indexes = [models.Index(fields=["patient", "-disclosed_at"])]

    def __str__(self) -> str:
        return f"disclosure {self.pk}"
