"""Support-group referrals and their status transitions."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from caseload.errors import InvalidInput
from caseload.models import AuditAction, Patient, Referral, ReferralStatus, Staff, SupportGroup

from .records import ExpectedVersion, record_create, record_update, require_status

S = ReferralStatus
# Which status each transition may start from.
TRANSITIONS: dict[str, set[str]] = {
    S.ATTENDING: {S.REFERRED},
    S.COMPLETED: {S.ATTENDING},
    S.DECLINED: {S.REFERRED, S.ATTENDING},
}


def referral_create(*, patient: Patient, actor: Staff, fields: dict[str, Any]) -> Referral:
    if fields["group"] == SupportGroup.OTHER and not fields.get("group_name", "").strip():
        raise InvalidInput(
            "Name the group for an 'other' referral.", field="group_name", code="required"
        )
    return record_create(model=Referral, actor=actor, patient=patient, **fields)


def referral_transition(
    *, referral: Referral, actor: Staff, to: str, expected_version: ExpectedVersion = None
) -> Referral:
    """Move a referral along referred → attending → completed, or to declined.

    The move is checked on the locked row, so of two racing moves from one status only the
    first can pass; the second sees the new status and answers 409.
    """

    return record_update(
        instance=referral,
        actor=actor,
        expected_version=expected_version,
        changes={"status": to, "status_changed_at": timezone.now()},
        action=AuditAction.TRANSITION,
        guard=lambda current: require_status(current, TRANSITIONS[to], to),
    )
