from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .base import CorrectableRecord


class Medication(models.TextChoices):
    METHADONE = "methadone", "Methadone"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    CLONIDINE = "clonidine", "Clonidine"
    LOFEXIDINE = "lofexidine", "Lofexidine hydrochloride"


class MedicationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


# What a client may set; entered_in_error comes only through the correction.
SETTABLE_MEDICATION_STATUSES = [
    choice for choice in MedicationStatus.choices if choice[0] != MedicationStatus.ENTERED_IN_ERROR
]


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"
    ML = "mL", "mL"
    MG_PER_ML = "mg/mL", "mg/mL"
    TABLET = "tablet", "tablet"
    FILM = "film", "film"
    PATCH = "patch", "patch"


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    SUBLINGUAL = "sublingual", "Sublingual"
    BUCCAL = "buccal", "Buccal"
    TRANSDERMAL = "transdermal", "Transdermal"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"


class MedicationRecord(CorrectableRecord):
    """What a prescriber ordered, recorded as ordered. The system never checks or computes doses."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="medications"
    )
    medication = models.CharField(max_length=20, choices=Medication.choices)
    dose = models.DecimalField(max_digits=10, decimal_places=3)
    dose_unit = models.CharField(max_length=10, choices=DoseUnit.choices)
    frequency = models.CharField(max_length=100)
    route = models.CharField(max_length=20, choices=Route.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=MedicationStatus.choices, default=MedicationStatus.ACTIVE
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "-created_at", "-id"]
        # The list's order, so a page reads rows in index order (no sort of the whole list).
        indexes = [
            models.Index(fields=["-start_date", "-created_at", "-id"], name="medication_list_order")
        ]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            models.CheckConstraint(condition=models.Q(dose__gt=0), name="medication_dose_positive"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="medication_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(medication__in=Medication.values),
                name="medication_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=MedicationStatus.values),
                name="medication_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication} {self.id}"
