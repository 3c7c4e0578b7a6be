"""The abstract base every Caseload record shares."""

import uuid

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """UUID public id, timestamps, authorship and an optimistic-locking version.

    `version` grows by one on every update; the API exposes it as the ETag and compares it
    atomically in the UPDATE statement, so concurrent edits cannot overwrite each other.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


class RecordStatus(models.TextChoices):
    """Status shared by records that are corrected rather than deleted."""

    FINAL = "final", "Final"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


ENTERED_IN_ERROR = RecordStatus.ENTERED_IN_ERROR


class CorrectableRecord(BaseModel):
    """A clinical record that is corrected, never deleted: its `status` (each subclass defines
    the field with its own lifecycle, always including `entered_in_error`) is set to
    entered_in_error with a reason, only through `record_mark_entered_in_error`, and such a
    record can no longer change (one guard, in `record_update`, error code `entered_in_error`).
    """

    entered_in_error_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True
        constraints = [
            # An entered-in-error record says why.
            models.CheckConstraint(
                condition=~models.Q(status=ENTERED_IN_ERROR)
                | ~models.Q(entered_in_error_reason=""),
                name="%(class)s_error_has_reason",
            ),
        ]

    @property
    def is_entered_in_error(self) -> bool:
        return self.status == ENTERED_IN_ERROR
