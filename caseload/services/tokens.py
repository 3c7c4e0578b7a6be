"""Personal API tokens: shown once, stored as a SHA-256 digest, expiring and revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseload.models import ApiToken, Staff

from .audit import audit_record

TOKEN_PREFIX = "cl_"  # noqa: S105 - a public marker, not a secret


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(
    *, staff: Staff, actor: Staff | None = None, name: str = "", ttl: timedelta | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `staff` and return it with its secret, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = ttl or timedelta(days=settings.CASELOAD_TOKEN_TTL_DAYS)
    with transaction.atomic():
        token = ApiToken.objects.create(
            staff=staff,
            name=name,
            prefix=raw[:12],
            digest=_digest(raw),
            expires_at=timezone.now() + ttl,
            created_by=actor or staff,
            updated_by=actor or staff,
        )
        audit_record(
            actor=actor or staff, action="token_issue", obj=token, detail={"staff": str(staff.pk)}
        )
    return token, raw


def token_authenticate(raw: str) -> Staff | None:
    """The active staff member a token belongs to, or None if unknown, expired or revoked."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("staff")
        .filter(digest=_digest(raw), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.staff.is_active:
        return None
    # Throttle the bookkeeping write to once a minute per token.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.staff


def token_revoke(*, token: ApiToken, actor: Staff) -> ApiToken:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), updated_by=actor
        )
        token.refresh_from_db()
        audit_record(actor=actor, action="token_revoke", obj=token)
    return token
