from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .base import BaseModel
from .feed import FeedRecord


class AppointmentStatus(models.TextChoices):
    """A subset of FHIR R4 Appointment.status."""

    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"
    NOSHOW = "noshow", "No-show"


class AppointmentKind(models.TextChoices):
    INTAKE = "intake", "Intake"
    COUNSELING = "counseling", "Counseling"
    GROUP = "group", "Group session"
    MEDICATION = "medication", "Medication visit"
    DRUG_SCREEN = "drug_screen", "Drug screen"
    FOLLOW_UP = "follow_up", "Follow-up"


class Appointment(FeedRecord, BaseModel):
    patient = models.ForeignKey(
        "caseload.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    # The patient's program, copied when the appointment is booked (a patient never changes
    # program): an integration's feed walks its own program's rows in change order by one
    # index, and a distributed database can place the row with its program's
    # (docs/performance.md). On PostgreSQL a foreign key on (patient, program) to the patient's
    # (id, program) keeps it the patient's program (migration 0021).
    program = models.ForeignKey(
        "caseload.Program", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    cancellation_reason = models.CharField(max_length=500, blank=True)
    # The booking deliberately overlaps the staff member's other appointments (a group session).
    overlap_allowed = models.BooleanField(default=False)
    # When the first reminder falls due: set in the booking or rescheduling transaction.
    reminder_due_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AppointmentStatus.values),
                name="appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AppointmentKind.values),
                name="appointment_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | ~models.Q(cancellation_reason=""),
                name="appointment_cancellation_has_reason",
            ),
        ]
        indexes = [
            # The list's order, so a page reads rows in index order (no sort of the whole list).
            models.Index(fields=["start", "id"], name="appointment_list_order"),
            models.Index(fields=["staff", "start"]),
            models.Index(fields=["updated_at", "id"]),
            # The sync feed walks this index: (change_seq, id) > cursor, below the horizon.
            models.Index(fields=["change_seq", "id"], name="appointment_feed"),
            models.Index(fields=["program", "change_seq", "id"], name="appointment_program_feed"),
            # A staff list's order within its program: with 50 programs, the global order
            # above made a counselor's page scan every program's rows (docs/performance.md).
            models.Index(fields=["program", "start", "id"], name="appointment_program_list"),
        ]

    def __str__(self) -> str:
        return f"appointment {self.id}"
