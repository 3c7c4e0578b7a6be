"""Sign-in locks a supervisor may lift: those of their own program's staff."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from caseload.models import SignInThrottle, Staff
from caseload.permissions import may_manage_program


def signin_locks(*, user: Staff) -> QuerySet[Staff]:
    """Staff of the user's program with a standing sign-in lock, for the supervisors who lift
    them (`signin_unlock`); nobody else sees any."""
    if not may_manage_program(user, getattr(user, "program_id", None), model=Staff):
        return Staff.objects.none()
    locked = SignInThrottle.objects.filter(locked_until__gt=timezone.now()).values("username")
    return Staff.objects.filter(program_id=user.program_id, username__in=locked).order_by(
        "username"
    )
