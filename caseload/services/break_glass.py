"""Break the glass: a clinician opens a patient of their program who is not on their caseload,
with a stated reason, for a few hours, read-only; a supervisor reviews every opening."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from caseload.errors import Conflict, Forbidden, InvalidInput
from caseload.models import AuditAction, BreakGlass, Patient, Staff
from caseload.permissions import (
    BREAK_GLASS_ROLES,
    can_write_patient,
    forget_break_glass_access,
    is_staff_member,
)

from .alerts import alerts_for_break_glass
from .audit import audit_record
from .records import ExpectedVersion, record_update

# A reason a supervisor reviewing the opening can judge, not a keystroke.
MIN_REASON_LENGTH = 20
# The longest an opening lasts (config/settings/base.py refuses to start with more).
MAX_HOURS = 24


def break_glass_open(*, actor: Staff, patient: Patient, reason: str) -> BreakGlass:
    """Open read-only access to `patient` until CASELOAD_BREAK_GLASS_HOURS from now.

    Every request the access makes possible is audited with `break_glass: true`; the opening
    itself is the event a supervisor's review starts from.
    """
    reason = _checked_reason(actor, patient, reason)
    hours = settings.CASELOAD_BREAK_GLASS_HOURS
    if not 0 < hours <= MAX_HOURS:
        raise ImproperlyConfigured(f"CASELOAD_BREAK_GLASS_HOURS must be at most {MAX_HOURS}.")
    now = timezone.now()
    with transaction.atomic():
        opened = BreakGlass.objects.create(
            program_id=patient.program_id,
            patient=patient,
            staff=actor,
            reason=reason,
            opened_at=now,
            expires_at=now + timedelta(hours=hours),
            created_by=actor,
            updated_by=actor,
        )
        _extend_access(actor, opened.expires_at)
        alerted = alerts_for_break_glass(opening=opened)
        audit_record(
            actor=actor,
            action=AuditAction.BREAK_GLASS,
            obj=opened,
            patient=patient,
            detail={
                "expires_at": opened.expires_at.isoformat(),
                "reason": reason,
                "alerted": [str(alert.recipient_id) for alert in alerted],
            },
        )
    return opened


def break_glass_review(
    *,
    access: BreakGlass,
    actor: Staff,
    note: str,
    expected_version: ExpectedVersion = None,
) -> BreakGlass:
    """A supervisor closes an opening in the review queue with a note. Reviewed once."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Write what the review found.", code="required", field="note")

    def guard(current: BreakGlass) -> None:
        if current.reviewed_at is not None:
            raise Conflict(
                "This access was already reviewed.", code="already_reviewed", field="note"
            )

    return record_update(
        instance=access,
        actor=actor,
        changes={"reviewed_at": timezone.now(), "reviewed_by": actor, "review_note": note},
        expected_version=expected_version,
        guard=guard,
    )


def _checked_reason(actor: Staff, patient: Patient, reason: str) -> str:
    """The stated reason, once the actor may break the glass for this patient."""
    if not is_staff_member(actor) or actor.role not in BREAK_GLASS_ROLES:
        raise Forbidden("Only counselors and prescribers break the glass.")
    if patient.program_id != actor.program_id:
        raise Forbidden("Break-the-glass access never crosses programs.", field="patient")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "State why you need this patient's record.", code="required", field="reason"
        )
    if len(reason) < MIN_REASON_LENGTH:
        raise InvalidInput(
            f"State the reason in at least {MIN_REASON_LENGTH} characters: what you need "
            "the record for, and why it cannot wait for the care team.",
            code="too_short",
            field="reason",
        )
    if can_write_patient(actor, patient):
        raise Conflict(
            "The patient is on your caseload; break-the-glass access is not needed.",
            code="on_caseload",
            field="patient",
        )
    return reason


def _extend_access(actor: Staff, until) -> None:
    """The actor's break-the-glass access lasts at least `until` (the later of two openings)."""
    Staff.objects.filter(pk=actor.pk).update(
        break_glass_until=Greatest(Coalesce("break_glass_until", Value(until)), Value(until))
    )
    actor.break_glass_until = max(actor.break_glass_until or until, until)
    forget_break_glass_access(actor)
