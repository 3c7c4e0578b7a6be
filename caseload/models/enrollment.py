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


class DischargeReason(models.TextChoices):
    """The categories national treatment-episode reporting uses (docs/clinical-reference.md)."""

    COMPLETED = "completed", "Treatment completed"
    DROPPED_OUT = "dropped_out", "Left before completing"
    TERMINATED = "terminated", "Terminated by the facility"
    TRANSFERRED = "transferred", "Transferred to another program or facility"
    INCARCERATED = "incarcerated", "Incarcerated"
    DIED = "died", "Died"
    OTHER = "other", "Other"


class AsamLevel(models.TextChoices):
    """ASAM Criteria levels of care, by code only (docs/clinical-reference.md)."""

    EARLY_INTERVENTION = "0.5", "0.5"
    OTP = "OTP", "OTP"
    OUTPATIENT = "1", "1"
    INTENSIVE_OUTPATIENT = "2.1", "2.1"
    PARTIAL_HOSPITALIZATION = "2.5", "2.5"
    LOW_INTENSITY_RESIDENTIAL = "3.1", "3.1"
    POPULATION_SPECIFIC_RESIDENTIAL = "3.3", "3.3"
    HIGH_INTENSITY_RESIDENTIAL = "3.5", "3.5"
    MEDICALLY_MONITORED_INPATIENT = "3.7", "3.7"
    MEDICALLY_MANAGED_INPATIENT = "4", "4"
    WM_1 = "1-WM", "1-WM"
    WM_2 = "2-WM", "2-WM"
    WM_3_2 = "3.2-WM", "3.2-WM"
    WM_3_7 = "3.7-WM", "3.7-WM"
    WM_4 = "4-WM", "4-WM"


# The coarse setting each level of care falls in.
COARSE_LEVEL: dict[str, str] = {
    **dict.fromkeys(("0.5", "OTP", "1", "1-WM"), "outpatient"),
    **dict.fromkeys(("2.1", "2.5", "2-WM"), "intensive_outpatient"),
    **dict.fromkeys(("3.1", "3.3", "3.5", "3.7", "4", "3.2-WM", "3.7-WM", "4-WM"), "inpatient"),
}


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
    discharge_reason = models.CharField(max_length=20, choices=DischargeReason.choices, blank=True)
    discharge_reason_detail = models.CharField(max_length=500, blank=True)
    # Consent to treatment, signed at admission (apart from any Part 2 disclosure consent).
    treatment_consent_signed_at = models.DateTimeField(null=True, blank=True)
    # The latest level-of-care placement's actual level; `level_of_care` follows from it.
    asam_level = models.CharField(max_length=10, choices=AsamLevel.choices, blank=True)

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
            # A discharge says why, with a code from the list; an open episode has none.
            models.CheckConstraint(
                condition=(
                    models.Q(status="discharged", discharge_reason__in=DischargeReason.values)
                    | (~models.Q(status="discharged") & models.Q(discharge_reason=""))
                ),
                name="enrollment_discharge_reason_valid",
            ),
            # Active care needs the signed consent to treatment.
            models.CheckConstraint(
                condition=~models.Q(status="active")
                | models.Q(treatment_consent_signed_at__isnull=False),
                name="enrollment_active_has_treatment_consent",
            ),
            models.CheckConstraint(
                condition=models.Q(asam_level="") | models.Q(asam_level__in=AsamLevel.values),
                name="enrollment_asam_level_valid",
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
