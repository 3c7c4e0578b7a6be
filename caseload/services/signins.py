"""Password sign-ins, throttled per username and source, and per username.

Five failed sign-ins for one username from one source (the client's address) within 15 minutes
lock that username *from that source* for 15 minutes: an attacker elsewhere cannot lock a user
out of their own desk. Against guessing spread over many sources, CASELOAD_SIGNIN_ACCOUNT_LIMIT
failures for one username from anywhere within 15 minutes lock it everywhere. While locked,
every sign-in path (the API's login page, the admin, re-authentication before a new token or
calendar link) refuses with `LockedOut`, even with the right password, and checks no password at
all. Usernames that belong to nobody lock the same way, so a lockout tells nothing about who
exists. A supervisor of the program (or the operator, `unlock_signin`) lifts a lock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseload.context import current_request
from caseload.errors import LockedOut
from caseload.models import AuditAction, SignInThrottle, Staff
from caseload.models.signin import ANY_SOURCE
from caseload.permissions import require_manage_program

from .audit import audit_record, audit_signin

FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
USERNAME_MAX_LENGTH = 150
SOURCE_MAX_LENGTH = 64


def signin_attempt(
    *, username: str, verify: Callable[[], Staff | None], via: str = "", source: str | None = None
) -> Staff | None:
    """Run `verify` (the password check) unless `username` is locked out for this source or
    everywhere; record the outcome.

    `source` is the client's address (the request's, by default; none for a command). The
    username's rows stay locked (SELECT ... FOR UPDATE, the account-wide row first) from before
    the check until the outcome is written, so concurrent attempts for one username are checked
    one after the other. Returns the staff member `verify` returned, or None for a failed
    sign-in. Raises LockedOut while locked.
    """
    key = username[:USERNAME_MAX_LENGTH]
    where = _source(source)
    for row_source in (ANY_SOURCE, where):
        SignInThrottle.objects.get_or_create(username=key, source=row_source)
    with transaction.atomic():
        account = SignInThrottle.objects.select_for_update().get(username=key, source=ANY_SOURCE)
        pair = SignInThrottle.objects.select_for_update().get(username=key, source=where)
        now = timezone.now()
        locked_until = max(
            (t for t in (account.locked_until, pair.locked_until) if t is not None and t > now),
            default=None,
        )
        if locked_until is None:
            staff = verify()
            _record(account, pair, key, staff, via, now)
            return staff
        audit_signin(
            action=AuditAction.LOGIN_FAILED,
            username=key,
            staff=_account(key),
            detail={"via": via, "reason": "locked_out", "source": where},
        )
    # Raised outside the transaction, so the audit row of the refusal is kept.
    raise LockedOut(
        "Too many failed sign-ins for this username; try again later.",
        retry_after=math.ceil((locked_until - now).total_seconds()),
    )


def signin_unlock(*, staff: Staff, actor) -> int:
    """Lift every sign-in lock of `staff` (from every source), and forget their failures.

    A supervisor of the staff member's program, or the operator (`unlock_signin`). Audited.
    Returns how many locks were lifted.
    """
    require_manage_program(actor, staff.program_id, model=Staff)
    with transaction.atomic():
        rows = SignInThrottle.objects.select_for_update().filter(username=staff.username)
        now = timezone.now()
        lifted = sum(1 for row in rows if row.locked_until is not None and row.locked_until > now)
        SignInThrottle.objects.filter(username=staff.username).update(
            failures=[], locked_until=None
        )
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=staff, detail={"change": "unlock_signin"}
        )
    return lifted


def signin_reauthenticate(*, staff: Staff, password: str, via: str) -> bool:
    """Whether `password` is the signed-in staff member's own, counted like any sign-in."""
    verified = signin_attempt(
        username=staff.username,
        verify=lambda: staff if staff.is_active and staff.check_password(password) else None,
        via=via,
    )
    return verified is not None


def _record(
    account: SignInThrottle,
    pair: SignInThrottle,
    key: str,
    staff: Staff | None,
    via: str,
    now: datetime,
) -> None:
    """Write the outcome of a checked sign-in: the fifth recent failure from a source locks the
    username from it; the account limit's, everywhere."""
    if staff is not None:
        audit_signin(action=AuditAction.LOGIN, username=key, staff=staff, detail={"via": via})
        if pair.failures:
            pair.failures = []
            pair.save(update_fields=["failures"])
        return
    found = _account(key)
    audit_signin(
        action=AuditAction.LOGIN_FAILED,
        username=key,
        staff=found,
        detail={"via": via, "reason": "invalid_credentials", "source": pair.source},
    )
    for row, limit in ((pair, FAILURE_LIMIT), (account, settings.CASELOAD_SIGNIN_ACCOUNT_LIMIT)):
        recent = [t for t in row.failures if datetime.fromisoformat(t) > now - FAILURE_WINDOW]
        row.failures = [*recent, now.isoformat()]
        if len(row.failures) >= limit:
            row.failures = []
            row.locked_until = now + LOCKOUT_DURATION
            audit_signin(
                action=AuditAction.LOCKOUT,
                username=key,
                staff=found,
                detail={
                    "via": via,
                    "locked_until": row.locked_until.isoformat(),
                    "source": row.source or "any",
                },
            )
        row.save(update_fields=["failures", "locked_until"])


def _source(source: str | None) -> str:
    """The client's address (the request's by default), as the throttle keys it."""
    if source is None:
        request = current_request()
        source = request.source if request is not None else ""
    return (source or "local")[:SOURCE_MAX_LENGTH]


def _account(username: str) -> Staff | None:
    return Staff.objects.filter(username=username).first()
