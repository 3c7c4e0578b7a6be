"""Personal API tokens: shown once, stored as a SHA-256 digest, expiring and revocable.

No token lives longer than CASELOAD_TOKEN_TTL_DAYS: it is refused at issue, and checked again at
every use against the token's age, so lowering the setting retires older tokens at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models.query import get_related_populators
from django.utils import timezone

from caseload.errors import Forbidden, InvalidInput
from caseload.models import ApiToken, AuditAction, Staff

from .audit import audit_event, audit_record
from .calendar_feeds import calendar_feeds_revoke_for_tokens
from .signins import signin_reauthenticate

TOKEN_PREFIX = "cl_"  # noqa: S105 - a public marker, not a secret


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_max_lifetime() -> timedelta:
    return timedelta(days=settings.CASELOAD_TOKEN_TTL_DAYS)


def token_lifetime(days: int | None) -> timedelta | None:
    """A requested lifetime in days, checked against the cap before it is turned into a
    duration (a huge number of days overflows `timedelta`)."""
    if days is None:
        return None
    if not 1 <= days <= settings.CASELOAD_TOKEN_TTL_DAYS:
        raise InvalidInput(
            f"A token lives from 1 to {settings.CASELOAD_TOKEN_TTL_DAYS} days.",
            code="max_value" if days > 1 else "min_value",
            field="expires_in_days",
        )
    return timedelta(days=days)


def token_issue(
    *, staff: Staff, actor: Staff | None = None, name: str = "", ttl: timedelta | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `staff` and return it with its secret, which is never stored."""
    limit = token_max_lifetime()
    if ttl is not None and ttl > limit:
        raise InvalidInput(
            f"A token lives at most {settings.CASELOAD_TOKEN_TTL_DAYS} days.",
            code="max_value",
            field="expires_in_days",
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            staff=staff,
            name=name,
            prefix=raw[:12],
            digest=_digest(raw),
            expires_at=timezone.now() + (ttl or limit),
            created_by=actor or staff,
            updated_by=actor or staff,
        )
        audit_record(
            actor=actor or staff,
            action=AuditAction.CREATE,
            obj=token,
            detail={"staff": str(staff.pk)},
        )
    return token, raw


def token_issue_for_self(
    *, staff: Staff, password: str, name: str = "", ttl: timedelta | None = None, via: str = ""
) -> tuple[ApiToken, str]:
    """A staff member's new token, only against their password.

    A session or a token alone cannot mint another credential; a wrong password counts as a
    failed sign-in toward the lockout, so this is no way round it.
    """
    if not signin_reauthenticate(staff=staff, password=password, via=via):
        raise Forbidden("The password is not correct.", code="invalid_password", field="password")
    return token_issue(staff=staff, name=name, ttl=ttl)


def token_of(raw: object) -> ApiToken | None:
    """The personal token a request carried (by its secret), if it carried one."""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX):
        return None
    return ApiToken.objects.filter(digest=_digest(raw)).first()


def token_authenticate(raw: str) -> Staff | None:
    """The active staff member a token belongs to, or None if unknown, expired or revoked."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = _live_token(_digest(raw), now)
    if token is None or not token.staff.is_active:
        return None
    # Throttle the bookkeeping write to once a minute per token.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.staff


# Stand-ins for the lookup's parameters while it is compiled (replaced on every use).
_DIGEST_SLOT = "\x00digest"
_NOW_SLOT = datetime(2001, 1, 1, tzinfo=UTC)
_BORN_SLOT = datetime(2001, 1, 2, tzinfo=UTC)


def _live_token(digest: str, now: datetime) -> ApiToken | None:
    """The unrevoked, unexpired token with this digest, its staff member and their program
    (one small row each: `/me/` and the audit read them), by one query per request.

    The query is the ORM's, compiled once per process and database: compiling it anew on every
    request was half the cost of authenticating (docs/performance.md). Nothing of its answer is
    kept: a token revoked or expired is refused on the very next request."""
    alias = router.db_for_read(ApiToken)
    compiler, sql, params, slots = _compiled_lookup(alias)
    db = connections[alias]
    params = list(params)
    params[slots[0]] = digest
    params[slots[1]] = _prep_time(now, db)
    params[slots[2]] = _prep_time(now - token_max_lifetime(), db)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    # What `QuerySet.__iter__` (ModelIterable) does with the rows of a select_related query.
    start, end = compiler.klass_info["select_fields"][0], compiler.klass_info["select_fields"][-1]
    names = [column[0].target.attname for column in compiler.select[start : end + 1]]
    populators = get_related_populators(compiler.klass_info, compiler.select, alias)
    row = next(iter(compiler.results_iter(results=[rows])))
    token = ApiToken.from_db(alias, names, row[start : end + 1])
    for populator in populators:
        populator.populate(row, token)
    return token


@cache
def _compiled_lookup(alias: str):
    query = (
        ApiToken.objects.using(alias)
        .select_related("staff__program")
        .order_by()
        .filter(
            digest=_DIGEST_SLOT,
            revoked_at__isnull=True,
            expires_at__gt=_NOW_SLOT,
            created_at__gt=_BORN_SLOT,
        )[:1]
    )
    compiler = query.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    db = connections[alias]
    stand_ins = (_DIGEST_SLOT, _prep_time(_NOW_SLOT, db), _prep_time(_BORN_SLOT, db))
    slots = tuple(list(params).index(value) for value in stand_ins)
    return compiler, sql, tuple(params), slots


def _prep_time(value: datetime, db) -> object:
    return ApiToken._meta.get_field("expires_at").get_db_prep_value(value, db)


def token_refused(raw: str, *, via: str) -> None:
    """Audit a Bearer token that was refused: unknown, expired, revoked or its owner inactive.

    A token Caseload issued names its owner and program, so the program's supervisor sees a
    revoked token still in use; the secret itself is never recorded.
    """
    token = (
        ApiToken.objects.select_related("staff").filter(digest=_digest(raw)).first()
        if raw.startswith(TOKEN_PREFIX)
        else None
    )
    audit_event(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        resource_type="apitoken",
        resource_id=token.pk if token else "",
        outcome="denied",
        status_code=401,
        program_id=token.staff.program_id if token else None,
        detail={"via": via, "reason": "invalid_token"}
        | ({"staff": str(token.staff_id)} if token else {}),
    )


def token_revoke(*, token: ApiToken, actor: Staff) -> ApiToken:
    """Revoke one token, and the calendar links made with it."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), updated_by=actor
        )
        token.refresh_from_db()
        audit_record(
            actor=actor, action=AuditAction.REVOKE, obj=token, detail={"staff": str(token.staff_id)}
        )
        calendar_feeds_revoke_for_tokens(staff=token.staff, tokens=[token.pk], actor=actor)
    return token


def token_revoke_all(*, staff: Staff, actor: Staff | None) -> int:
    """Revoke every token `staff` still holds (a lost laptop), and every calendar link they
    made; how many tokens were revoked."""
    with transaction.atomic():
        live = ApiToken.objects.select_for_update().filter(staff=staff, revoked_at__isnull=True)
        ids = [str(pk) for pk in live.values_list("pk", flat=True)]
        ApiToken.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), updated_by=actor)
        audit_record(
            actor=actor,
            action=AuditAction.REVOKE,
            obj=staff,
            detail={"count": len(ids), "tokens": ids},
        )
        calendar_feeds_revoke_for_tokens(staff=staff, tokens=None, actor=actor)
    return len(ids)
