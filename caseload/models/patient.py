from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from .background import ReminderChannel
from .base import BaseModel
from .feed import FeedRecord


class Patient(FeedRecord, BaseModel):
    """A person enrolled, now or before, in one program."""

    program = models.ForeignKey(
        "caseload.Program", on_delete=models.PROTECT, related_name="patients"
    )
    mrn = models.CharField("medical record number", max_length=32)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    last_use_at = models.DateTimeField(null=True, blank=True)
    # How the patient wants appointment reminders: none (the default), email or sms.
    reminder_channel = models.CharField(
        max_length=10,
        choices=ReminderChannel.choices,
        default="none",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "mrn"], name="patient_mrn_unique_in_program"
            ),
            # What a record's (patient, program) foreign key names: the pair must be a key
            # (migration 0021).
            models.UniqueConstraint(fields=["id", "program"], name="patient_id_program"),
        ]
        indexes = [
            # The list's order within a program, so a page reads rows in index order.
            models.Index(
                fields=["program", "family_name", "given_name", "id"], name="patient_list_order"
            ),
            # The sync feed walks this index: (change_seq, id) > cursor, below the horizon.
            models.Index(fields=["change_seq", "id"], name="patient_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.mrn}"


class PatientUserObjectPermission(UserObjectPermissionBase):
    """Care-team grants on a patient, with a real foreign key so caseload queries are joins."""

    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE)


class PatientGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE)
