"""Follow-ups: work a counselor owes a patient, today after a missed appointment."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from caseload.errors import Conflict, Forbidden
from caseload.models import (
    Appointment,
    AuditAction,
    Enrollment,
    FollowUp,
    FollowUpStatus,
    Staff,
)

from .audit import audit_record


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
    """The follow-up's owner marks it done, once; audited."""
    with transaction.atomic():
        current = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if current.staff_id != getattr(actor, "pk", None):
            raise Forbidden("Only the staff member it was assigned to closes a follow-up.")
        if current.status == FollowUpStatus.DONE:
            raise Conflict("This follow-up is already done.", code="already_done", field="status")
        current.status = FollowUpStatus.DONE
        current.done_at = timezone.now()
        current.save(update_fields=["status", "done_at"])
        audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            obj=current,
            patient=current.patient,
            detail={"to": FollowUpStatus.DONE},
        )
    return current
