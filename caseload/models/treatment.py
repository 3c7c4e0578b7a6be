"""Treatment records a surveyor asks for first: level-of-care placements and treatment plans.

Both belong to an enrollment (and name its patient, so every scoped read works as for other
records). Neither is ever deleted: a placement is corrected by entered-in-error; a plan is a
draft, then signed, then changed only by a review, its earlier versions kept in its history.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .base import ENTERED_IN_ERROR, CorrectableRecord
from .enrollment import AsamLevel

DIMENSIONS = tuple(f"dimension_{n}" for n in range(1, 7))
HIGHEST_RATING = 4


class PlacementStatus(models.TextChoices):
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Placement(CorrectableRecord):
    """A clinician's level-of-care placement: six ASAM dimension ratings (0-4 risk), the level
    recommended and the level given, and why they differ. Caseload records the judgement; it
    never computes a level."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="placements"
    )
    enrollment = models.ForeignKey(
        "caseload.Enrollment", on_delete=models.PROTECT, related_name="placements"
    )
    assessed_at = models.DateTimeField()
    dimension_1 = models.PositiveSmallIntegerField(
        help_text="Acute intoxication and/or withdrawal potential (0-4)."
    )
    dimension_2 = models.PositiveSmallIntegerField(
        help_text="Biomedical conditions and complications (0-4)."
    )
    dimension_3 = models.PositiveSmallIntegerField(
        help_text="Emotional, behavioural or cognitive conditions and complications (0-4)."
    )
    dimension_4 = models.PositiveSmallIntegerField(help_text="Readiness to change (0-4).")
    dimension_5 = models.PositiveSmallIntegerField(
        help_text="Relapse, continued use or continued problem potential (0-4)."
    )
    dimension_6 = models.PositiveSmallIntegerField(help_text="Recovery/living environment (0-4).")
    recommended_level = models.CharField(max_length=10, choices=AsamLevel.choices)
    actual_level = models.CharField(max_length=10, choices=AsamLevel.choices)
    reason_for_difference = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=20, choices=PlacementStatus.choices, default=PlacementStatus.FINAL
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_at", "-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["-assessed_at", "-created_at", "-id"], name="placement_list_order"
            ),
            models.Index(fields=["enrollment", "-assessed_at"], name="placement_latest"),
        ]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__lte": HIGHEST_RATING}),
                    name=f"placement_{name}_rating",
                )
                for name in DIMENSIONS
            ),
            models.CheckConstraint(
                condition=models.Q(recommended_level__in=AsamLevel.values)
                & models.Q(actual_level__in=AsamLevel.values),
                name="placement_levels_valid",
            ),
            # A level given other than the one recommended says why.
            models.CheckConstraint(
                condition=models.Q(recommended_level=models.F("actual_level"))
                | ~models.Q(reason_for_difference=""),
                name="placement_difference_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PlacementStatus.values),
                name="placement_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"placement {self.id}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


# A plan that is the enrollment's current one: at most one per enrollment.
CURRENT_PLAN_STATUSES = (PlanStatus.DRAFT, PlanStatus.SIGNED)


class TreatmentPlan(CorrectableRecord):
    """An enrollment's treatment plan: problems, goals with measurable objectives, and
    interventions. Edited while a draft; signed by the counselor (with the date the patient
    signed); afterwards changed only by a review, which sets the next review date."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    enrollment = models.ForeignKey(
        "caseload.Enrollment", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    starts_on = models.DateField()
    problems = models.JSONField(default=list)
    goals = models.JSONField(default=list)
    interventions = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    signed_by_patient_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_on", "-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["-starts_on", "-created_at", "-id"], name="treatmentplan_list_order"
            ),
            models.Index(fields=["status", "review_due_on"], name="treatmentplan_review_due"),
        ]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(status__in=CURRENT_PLAN_STATUSES),
                name="treatmentplan_one_current_per_enrollment",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PlanStatus.values),
                name="treatmentplan_status_valid",
            ),
            # A signed plan names who signed it, when, and when it is next reviewed.
            models.CheckConstraint(
                condition=~models.Q(status=PlanStatus.SIGNED)
                | models.Q(
                    signed_by__isnull=False,
                    signed_at__isnull=False,
                    signed_by_patient_at__isnull=False,
                    review_due_on__isnull=False,
                ),
                name="treatmentplan_signed_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"treatment plan {self.id}"


__all__ = [
    "CURRENT_PLAN_STATUSES",
    "DIMENSIONS",
    "ENTERED_IN_ERROR",
    "HIGHEST_RATING",
    "Placement",
    "PlacementStatus",
    "PlanStatus",
    "TreatmentPlan",
]
