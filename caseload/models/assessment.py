from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from caseload import instruments

from .base import CorrectableRecord, RecordStatus


class Instrument(models.TextChoices):
    COWS = "cows", "COWS (clinician-rated)"
    SOWS = "sows", "SOWS (self-report)"
    WITHDRAWAL_CHECKLIST = "withdrawal_checklist", "Withdrawal checklist (DSM-5 criterion B)"


class Assessment(CorrectableRecord):
    """A withdrawal assessment: the raw answers and what the server computed from them.

    The results are stored with the instrument version and band thresholds used, so a later
    change of configured bands never rewrites what a clinician saw.
    """

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="assessments"
    )
    instrument = models.CharField(max_length=30, choices=Instrument.choices)
    items = models.JSONField()
    administered_at = models.DateTimeField()
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    instrument_version = models.CharField(max_length=100)
    total_score = models.PositiveSmallIntegerField(null=True, blank=True)
    severity = models.CharField(max_length=30, blank=True)
    criteria_met = models.PositiveSmallIntegerField(null=True, blank=True)
    meets_withdrawal_criteria = models.BooleanField(null=True, blank=True)
    bands = models.JSONField(default=list, blank=True)
    bands_label = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-administered_at", "-created_at", "-id"]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(instrument__in=Instrument.values),
                name="assessment_instrument_valid",
            ),
            # Totals within each scale's range (COWS 0-48, SOWS 0-64), from the scoring module.
            models.CheckConstraint(
                condition=models.Q(total_score__isnull=True)
                | models.Q(
                    instrument=instruments.COWS,
                    total_score__gte=0,
                    total_score__lte=instruments.max_total(instruments.COWS),
                )
                | models.Q(
                    instrument=instruments.SOWS,
                    total_score__gte=0,
                    total_score__lte=instruments.max_total(instruments.SOWS),
                ),
                name="assessment_total_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(criteria_met__isnull=True)
                | models.Q(
                    instrument=instruments.WITHDRAWAL_CHECKLIST,
                    criteria_met__gte=0,
                    criteria_met__lte=instruments.max_total(instruments.WITHDRAWAL_CHECKLIST),
                ),
                name="assessment_criteria_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RecordStatus.values),
                name="assessment_status_valid",
            ),
        ]
        indexes = [
            # The list's order, so a page reads rows in index order (no sort of the whole list).
            models.Index(
                fields=["-administered_at", "-created_at", "-id"], name="assessment_list_order"
            ),
            models.Index(fields=["patient", "instrument", "administered_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.id}"

    @property
    def severity_or_none(self) -> str | None:
        return self.severity or None
