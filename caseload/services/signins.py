"""Password sign-ins, throttled per username.

Five failed sign-ins for one username within 15 minutes lock it for 15 minutes: every sign-in
path (the API's login page, the admin, re-authentication before a new token) then refuses it
with `LockedOut`, even with the right password, and checks no password at all. Usernames that
belong to nobody lock the same way, so a lockout tells nothing about who exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from caseload.errors import LockedOut
from caseload.models import SignInThrottle, Staff

from .audit import audit_signin

FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
USERNAME_MAX_LENGTH = 150


def signin_attempt(
    *, username: str, verify: Callable[[], Staff | None], via: str = ""
) -> Staff | None:
    """Run `verify` (the password check) unless `username` is locked out; record the outcome.

    The username's throttle row stays locked (SELECT ... FOR UPDATE) from before the check until
    the outcome is written, so concurrent attempts for one username are checked one after the
    other: however many arrive at once, at most FAILURE_LIMIT wrong passwords are tried before
    the lock. Returns the staff member `verify` returned, or None for a failed sign-in.
    Raises LockedOut while the username is locked.
    """
    key = username[:USERNAME_MAX_LENGTH]
    SignInThrottle.objects.get_or_create(username=key)
    with transaction.atomic():
        throttle = SignInThrottle.objects.select_for_update().get(username=key)
        now = timezone.now()
        locked_until = throttle.locked_until
        if locked_until is None or locked_until <= now:
            staff = verify()
            _record(throttle, key, staff, via, now)
            return staff
        audit_signin(
            action="login_failed",
            username=key,
            staff=_account(key),
            detail={"via": via, "reason": "locked_out"},
        )
    # Raised outside the transaction, so the audit row of the refusal is kept.
    raise LockedOut(
        "Too many failed sign-ins for this username; try again later.",
        retry_after=math.ceil((locked_until - now).total_seconds()),
    )


def signin_reauthenticate(*, staff: Staff, password: str, via: str) -> bool:
    """Whether `password` is the signed-in staff member's own, counted like any sign-in."""
    verified = signin_attempt(
        username=staff.username,
        verify=lambda: staff if staff.is_active and staff.check_password(password) else None,
        via=via,
    )
    return verified is not None


def _record(
    throttle: SignInThrottle, key: str, staff: Staff | None, via: str, now: datetime
) -> None:
    """Write the outcome of a checked sign-in; the fifth recent failure locks the username."""
    if staff is not None:
        audit_signin(action="login", username=key, staff=staff, detail={"via": via})
        return
    account = _account(key)
    audit_signin(
        action="login_failed",
        username=key,
        staff=account,
        detail={"via": via, "reason": "invalid_credentials"},
    )
    recent = [t for t in throttle.failures if datetime.fromisoformat(t) > now - FAILURE_WINDOW]
    throttle.failures = [*recent, now.isoformat()]
    if len(throttle.failures) >= FAILURE_LIMIT:
        throttle.failures = []
        throttle.locked_until = now + LOCKOUT_DURATION
        audit_signin(
            action="lockout",
            username=key,
            staff=account,
            detail={"via": via, "locked_until": throttle.locked_until.isoformat()},
        )
    throttle.save(update_fields=["failures", "locked_until"])


def _account(username: str) -> Staff | None:
    return Staff.objects.filter(username=username).first()
