"""Scoped reads of records that belong to a patient."""

from django.db.models import QuerySet

from caseload.models import Appointment, CaseNote, Enrollment, Staff
from caseload.permissions import records_visible_to


def enrollment_list(*, user: Staff) -> QuerySet[Enrollment]:
    return records_visible_to(user, Enrollment).select_related("patient", "counselor", "prescriber")


def note_list(*, user: Staff) -> QuerySet[CaseNote]:
    return records_visible_to(user, CaseNote).select_related("author")


def appointment_list(*, user: Staff) -> QuerySet[Appointment]:
    return records_visible_to(user, Appointment).select_related("staff")
