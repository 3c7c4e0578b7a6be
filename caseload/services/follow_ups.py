"""Follow-ups: work a counselor owes a patient, today after a missed appointment."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from caseload.errors import Conflict
from caseload.models import Appointment, Enrollment, FollowUp, FollowUpStatus, Staff


def follow_up_for_noshow(*, appointment: Appointment) -> FollowUp:
    """The patient's counselor (else the appointment's staff member) follows up. Idempotent."""
    enrollment = (
        Enrollment.objects.filter(patient_id=appointment.patient_id)
        .exclude(status="discharged")
        .order_by("-admitted_on")
        .first()
    )
    staff = enrollment.counselor if enrollment is not None else appointment.staff
    follow_up, _ = FollowUp.objects.get_or_create(
        appointment=appointment,
        reason="noshow",
        defaults={"staff": staff, "patient_id": appointment.patient_id},
    )
    return follow_up


def follow_up_done(*, follow_up: FollowUp, actor: Staff) -> FollowUp:
    with transaction.atomic():
        current = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if current.status == FollowUpStatus.DONE:
            raise Conflict("This follow-up is already done.", code="already_done", field="status")
        current.status = FollowUpStatus.DONE
        current.done_at = timezone.now()
        current.save(update_fields=["status", "done_at"])
    return current
