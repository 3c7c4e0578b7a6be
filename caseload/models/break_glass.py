from django.conf import settings
from django.db import models

from caseload.tamper import TamperEvident

from .base import BaseModel


class BreakGlass(TamperEvident, BaseModel):
    """Time-boxed, read-only access of a clinician to a patient of their program who is not on
    their caseload, opened with a stated reason and queued for a supervisor's review."""

    program = models.ForeignKey("caseload.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("caseload.Patient", on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=2000)
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name_plural = "break-glass accesses"
        indexes = [
            # The list's order, so a page reads rows in index order (no sort of the whole list).
            models.Index(fields=["program", "-opened_at", "-id"], name="break_glass_list_order"),
            models.Index(fields=["staff", "expires_at"], name="break_glass_staff_expiry"),
            models.Index(fields=["program", "reviewed_at"], name="break_glass_review_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("opened_at")),
                name="break_glass_expires_after_opening",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="break_glass_reason_given"),
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True)
                | (models.Q(reviewed_by__isnull=False) & ~models.Q(review_note="")),
                name="break_glass_review_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.pk}"
