from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .base import CorrectableRecord, RecordStatus


class ScreenMethod(models.TextChoices):
    PRESUMPTIVE = "presumptive", "Presumptive (immunoassay)"
    CONFIRMATORY = "confirmatory", "Confirmatory"


class Substance(models.TextChoices):
    OPIATES = "opiates", "Opiates"
    FENTANYL = "fentanyl", "Fentanyl"
    METHADONE = "methadone", "Methadone"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    OXYCODONE = "oxycodone", "Oxycodone"
    COCAINE = "cocaine", "Cocaine"
    AMPHETAMINES = "amphetamines", "Amphetamines"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    CANNABINOIDS = "cannabinoids", "Cannabinoids"
    ALCOHOL = "alcohol", "Alcohol (EtG)"
    XYLAZINE = "xylazine", "Xylazine"


class ScreenResult(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    INVALID = "invalid", "Invalid"


class DrugScreen(CorrectableRecord):
    """A urine drug screen: who collected it when, and a result per substance tested."""

    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="drug_screens"
    )
    collected_at = models.DateTimeField()
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=20, choices=ScreenMethod.choices)
    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-collected_at", "-created_at", "-id"]
        # The list's order, so a page reads rows in index order (no sort of the whole list).
        indexes = [
            models.Index(
                fields=["-collected_at", "-created_at", "-id"], name="drugscreen_list_order"
            )
        ]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(method__in=ScreenMethod.values), name="drugscreen_method_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RecordStatus.values), name="drugscreen_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"screen {self.id}"


class DrugScreenResult(models.Model):
    screen = models.ForeignKey(DrugScreen, on_delete=models.PROTECT, related_name="results")
    substance = models.CharField(max_length=20, choices=Substance.choices)
    result = models.CharField(max_length=10, choices=ScreenResult.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["substance", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["screen", "substance"], name="drugscreen_one_result_per_substance"
            ),
            models.CheckConstraint(
                condition=models.Q(result__in=ScreenResult.values),
                name="drugscreenresult_result_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.substance}: {self.result}"
