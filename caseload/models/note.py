from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .base import CorrectableRecord, RecordStatus


class CaseNote(CorrectableRecord):
    """A counselor's case note. Corrected by marking it entered in error, never deleted."""

    patient = models.ForeignKey("caseload.Patient", on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    body = models.TextField(max_length=20000)
    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-written_at", "-created_at", "-id"]
        # The list's order, so a page reads rows in index order (no sort of the whole list).
        indexes = [
            models.Index(fields=["-written_at", "-created_at", "-id"], name="casenote_list_order")
        ]
        constraints = [
            *CorrectableRecord.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(status__in=RecordStatus.values), name="casenote_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"note {self.id}"
