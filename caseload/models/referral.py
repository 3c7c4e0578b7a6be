from django.db import models
from simple_history.models import HistoricalRecords

from .base import CorrectableRecord


class SupportGroup(models.TextChoices):
    NARCOTICS_ANONYMOUS = "narcotics_anonymous", "Narcotics Anonymous"
    SMART_RECOVERY = "smart_recovery", "SMART Recovery"
    OTHER = "other", "Other (named)"


class ReferralStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    ATTENDING = "attending", "Attending (self-reported)"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Referral(CorrectableRecord):
    """A support-group referral. Attendance is self-reported."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="referrals"
    )
    group = models.CharField(max_length=30, choices=SupportGroup.choices)
    group_name = models.CharField(max_length=200, blank=True)
    referred_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.REFERRED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    notes = models.CharField(max_length=1000, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-referred_on", "-created_at", "-id"]
        # The list's order, so a page reads rows in index order (no sort of the whole list).
        indexes = [
            models.Index(fields=["-referred_on", "-created_at", "-id"], name="referral_list_order")
        ]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=~models.Q(group="other") | ~models.Q(group_name=""),
                name="referral_other_group_is_named",
            ),
            models.CheckConstraint(
                condition=models.Q(group__in=SupportGroup.values), name="referral_group_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReferralStatus.values),
                name="referral_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.id}"
