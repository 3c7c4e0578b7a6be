from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .base import BaseModel


class EnrollmentStatus(models.TextChoices):
    INTAKE = "intake", "Intake"
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"


class LevelOfCare(models.TextChoices):
    INPATIENT = "inpatient", "Inpatient / residential"
    INTENSIVE_OUTPATIENT = "intensive_outpatient", "Intensive outpatient"
    OUTPATIENT = "outpatient", "Outpatient"


class Enrollment(BaseModel):
    """An episode of care. Its counselor and prescriber define who works the patient's case."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="enrollments"
    )
    status = models.CharField(
        max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.INTAKE
    )
    level_of_care = models.CharField(max_length=30, choices=LevelOfCare.choices)
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counseled_enrollments"
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescribed_enrollments",
    )
    admitted_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-admitted_on", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=~models.Q(status="discharged"),
                name="enrollment_one_open_per_patient",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=EnrollmentStatus.values),
                name="enrollment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(level_of_care__in=LevelOfCare.values),
                name="enrollment_level_of_care_valid",
            ),
            # A discharged episode has a discharge date; an open one has none.
            models.CheckConstraint(
                condition=(
                    models.Q(status="discharged", discharged_on__isnull=False)
                    | (~models.Q(status="discharged") & models.Q(discharged_on__isnull=True))
                ),
                name="enrollment_discharge_date_matches_status",
            ),
            models.CheckConstraint(
                condition=models.Q(discharged_on__isnull=True)
                | models.Q(discharged_on__gte=models.F("admitted_on")),
                name="enrollment_discharge_after_admission",
            ),
        ]
        indexes = [
            # The list's order, so a page reads rows in index order (no sort of the whole list).
            models.Index(
                fields=["-admitted_on", "-created_at", "-id"], name="enrollment_list_order"
            ),
            models.Index(fields=["counselor", "status"]),
            models.Index(fields=["prescriber", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.status}"
