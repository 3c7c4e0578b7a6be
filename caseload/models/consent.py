from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from caseload.tamper import TamperEvident

from .base import BaseModel


class InformationCategory(models.TextChoices):
    """What a consent may cover and a disclosure may carry."""

    DEMOGRAPHICS = "demographics"
    APPOINTMENTS = "appointments"
    ENROLLMENTS = "enrollments"
    ASSESSMENTS = "assessments"
    MEDICATIONS = "medications"
    DRUG_SCREENS = "drug_screens"
    REFERRALS = "referrals"
    NOTES = "notes"


class ConsentStatus(models.TextChoices):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


def covers_information(granted: Iterable[str], wanted: Iterable[str]) -> bool:
    """The consent-coverage rule: a consent covers what it names. Psychotherapy-style notes go
    only under a consent that names notes alone (docs/privacy.md)."""
    granted, wanted = set(granted or ()), set(wanted)
    if InformationCategory.NOTES in wanted and granted != {InformationCategory.NOTES}:
        return False
    return wanted <= granted


class ConsentQuerySet(models.QuerySet):
    """The one definition of an active consent and of what a consent covers."""

    def active(self, now: datetime | None = None) -> "ConsentQuerySet":
        """Unrevoked, not past `expires_at`, and no expiry event recorded (an event is recorded
        once it has happened, so a recorded one has always ended the consent) at `now`: the rule
        every disclosure channel applies."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expiry_event_occurred_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )

    def covering(self, information: Iterable[str]) -> "ConsentQuerySet":
        """Those that cover every category in `information` (`covers_information`)."""
        wanted = sorted(set(information))
        if InformationCategory.NOTES in wanted:
            return (
                self.filter(information=[InformationCategory.NOTES])
                if wanted == [InformationCategory.NOTES]
                else self.none()
            )
        if connection.features.supports_json_field_contains:
            return self.filter(information__contains=wanted)
        # SQLite cannot look inside a JSON list: apply the same rule to the candidates here.
        candidates = self.values_list("pk", "information")
        return self.filter(
            pk__in=[pk for pk, granted in candidates if covers_information(granted, wanted)]
        )


class SignerRole(models.TextChoices):
    """Who signed a consent: the patient, or someone lawfully signing for them (42 CFR 2.14,
    2.15)."""

    PATIENT = "patient"
    GUARDIAN = "guardian"
    PERSONAL_REPRESENTATIVE = "personal_representative"


class Consent(TamperEvident, BaseModel):
    """A patient's written consent to disclose (42 CFR 2.31). Never edited: revoked, then
    replaced by a new one. Its status is derived when read, so an expiry takes effect at once.

    The program that discloses is the patient's; `expires_at` or `expiry_event` says when it
    ends; `revocation_notice` records that the patient was told how to revoke it.

    Consents recorded before the 2.31 statements and the signer's role were asked for hold none
    (null, blank); every new one holds them. An `expiry_event` ends the consent when someone
    records that the event happened (`expiry_event_occurred_at`).
    """

    MAC_WHEN_SET = (
        "recipient_address",
        "redisclosure_statement",
        "treatment_not_conditioned_statement",
        "signer_role",
        "expiry_event_occurred_at",
        "expiry_event_recorded_by_id",
    )

    program = models.ForeignKey("caseload.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="consents"
    )
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.CharField(max_length=500, blank=True, default="")
    # The integration client named as recipient; integration clients are not staff. Named as a
    # foreign key column would be, so one can take its place.
    recipient_client = models.UUIDField(
        null=True, blank=True, db_column="recipient_client_id", db_index=True
    )
    purpose = models.TextField(max_length=2000)
    information = models.JSONField()
    expires_at = models.DateTimeField(null=True, blank=True)
    expiry_event = models.CharField(max_length=500, blank=True)
    signed_by = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    revocation_notice = models.BooleanField()
    # 42 CFR 2.31(a): the form told the patient that what is disclosed may be redisclosed by the
    # recipient and no longer be protected, and whether treatment, payment, enrollment or
    # eligibility is conditioned on signing. Null: recorded before these were asked for.
    redisclosure_statement = models.BooleanField(null=True, blank=True)
    treatment_not_conditioned_statement = models.BooleanField(null=True, blank=True)
    signer_role = models.CharField(
        max_length=32, choices=SignerRole.choices, blank=True, default=""
    )
    # When the consent's expiry event happened, as recorded by staff: the consent ends then.
    expiry_event_occurred_at = models.DateTimeField(null=True, blank=True)
    expiry_event_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [
            # The list's order, so a page reads rows in index order (no sort of the whole list).
            models.Index(fields=["-signed_at", "-id"], name="consent_list_order"),
            models.Index(fields=["patient", "-signed_at"], name="consent_patient_signed"),
            # An integration client's active consents, whatever their number (the feed's
            # coverage, caseload/permissions.py).
            models.Index(
                fields=["recipient_client", "patient"],
                condition=models.Q(revoked_at__isnull=True),
                name="consent_recipient_active",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=False) | ~models.Q(expiry_event=""),
                name="consent_has_expiry",
            ),
            models.CheckConstraint(
                condition=models.Q(revocation_notice=True), name="consent_revocation_notice"
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_event_occurred_at__isnull=True)
                | (~models.Q(expiry_event="") & models.Q(expiry_event_recorded_by__isnull=False)),
                name="consent_expiry_event_recorded",
            ),
            models.CheckConstraint(
                condition=models.Q(signer_role="") | models.Q(signer_role__in=SignerRole.values),
                name="consent_signer_role_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(recipient_name="")
                & ~models.Q(purpose="")
                & ~models.Q(signed_by=""),
                name="consent_elements_present",
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk}"

    def covers(self, information: Iterable[str]) -> bool:
        return covers_information(self.information, information)
