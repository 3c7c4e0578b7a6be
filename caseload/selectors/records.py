"""Scoped reads of records that belong to a patient."""

from django.db.models import QuerySet

from caseload.models import (
    Appointment,
    Assessment,
    CaseNote,
    DrugScreen,
    Enrollment,
    MedicationRecord,
    Referral,
    Staff,
)
from caseload.permissions import records_visible_to


def enrollment_list(*, user: Staff) -> QuerySet[Enrollment]:
    return records_visible_to(user, Enrollment).select_related("patient", "counselor", "prescriber")


def note_list(*, user: Staff) -> QuerySet[CaseNote]:
    return records_visible_to(user, CaseNote).select_related("author")


def appointment_list(*, user: Staff) -> QuerySet[Appointment]:
    return records_visible_to(user, Appointment).select_related("staff")


def assessment_list(*, user: Staff) -> QuerySet[Assessment]:
    return records_visible_to(user, Assessment).select_related("administered_by")


def medication_list(*, user: Staff) -> QuerySet[MedicationRecord]:
    return records_visible_to(user, MedicationRecord).select_related("prescriber")


def drug_screen_list(*, user: Staff) -> QuerySet[DrugScreen]:
    return (
        records_visible_to(user, DrugScreen)
        .select_related("collected_by")
        .prefetch_related("results")
    )


def referral_list(*, user: Staff) -> QuerySet[Referral]:
    return records_visible_to(user, Referral)
