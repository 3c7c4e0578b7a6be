from django.conf import settings
from django.db import models

from .base import BaseModel


class AmendmentStatus(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DENIED = "denied"


class AmendedRecordType(models.TextChoices):
    """The records an amendment can correct: those corrected by entered-in-error."""

    ASSESSMENT = "assessment"
    MEDICATION = "medicationrecord"
    DRUG_SCREEN = "drugscreen"
    REFERRAL = "referral"
    NOTE = "casenote"


class AmendmentRequest(BaseModel):
    """A patient's request to amend a record (HIPAA 164.526): the program acts within 60 days
    of `requested_at` (`due_at`), accepting (the record is marked entered in error and the
    corrected record named as `replacement`) or denying in writing (`denial_reason`). A denied
    patient may file a statement of disagreement, which goes with the record in later copies.
    """

    program = models.ForeignKey("caseload.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="amendments"
    )
    record_type = models.CharField(max_length=20, choices=AmendedRecordType.choices)
    record_id = models.UUIDField()
    requested_at = models.DateTimeField()
    requested_change = models.TextField(max_length=4000)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    denial_reason = models.TextField(max_length=4000, blank=True)
    replacement_id = models.UUIDField(null=True, blank=True)
    disagreement = models.TextField(max_length=4000, blank=True)
    disagreement_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("decide_amendmentrequest", "Can accept or deny an amendment request")]
        indexes = [
            models.Index(fields=["patient", "-requested_at"], name="amendment_patient_time"),
            models.Index(fields=["program", "status", "due_at"], name="amendment_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AmendmentStatus.values), name="amendment_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_change=""), name="amendment_change_given"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=AmendmentStatus.ACCEPTED)
                | models.Q(replacement_id__isnull=False, decided_at__isnull=False),
                name="amendment_accepted_names_replacement",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=AmendmentStatus.DENIED)
                | (~models.Q(denial_reason="") & models.Q(decided_at__isnull=False)),
                name="amendment_denial_gives_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(disagreement="")
                | models.Q(status=AmendmentStatus.DENIED, disagreement_at__isnull=False),
                name="amendment_disagreement_after_denial",
            ),
        ]

    def __str__(self) -> str:
        return f"amendment {self.pk}"
