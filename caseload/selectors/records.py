"""Scoped reads of records that belong to a patient."""

from django.db.models import QuerySet

from caseload.models import (
    Appointment,
    Assessment,
    CaseNote,
    DrugScreen,
    Enrollment,
    MedicationRecord,
    Placement,
    Referral,
    Staff,
    TreatmentPlan,
)
from caseload.permissions import records_visible_to

# A record names its staff by id only: no selector joins the staff table (a list would read
# every row's staff member, password hash included, to write one id).


def enrollment_list(*, user: Staff) -> QuerySet[Enrollment]:
    return records_visible_to(user, Enrollment)


def note_list(*, user: Staff) -> QuerySet[CaseNote]:
    return records_visible_to(user, CaseNote)


def appointment_list(*, user: Staff) -> QuerySet[Appointment]:
    return records_visible_to(user, Appointment)


def assessment_list(*, user: Staff) -> QuerySet[Assessment]:
    return records_visible_to(user, Assessment)


def medication_list(*, user: Staff) -> QuerySet[MedicationRecord]:
    return records_visible_to(user, MedicationRecord)


def drug_screen_list(*, user: Staff) -> QuerySet[DrugScreen]:
    return records_visible_to(user, DrugScreen).prefetch_related("results")


def referral_list(*, user: Staff) -> QuerySet[Referral]:
    return records_visible_to(user, Referral)


def placement_list(*, user: Staff) -> QuerySet[Placement]:
    return records_visible_to(user, Placement)


def treatment_plan_list(*, user: Staff) -> QuerySet[TreatmentPlan]:
    return records_visible_to(user, TreatmentPlan)
