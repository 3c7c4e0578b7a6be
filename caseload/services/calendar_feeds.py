"""Calendar feeds: a staff member's private iCalendar link to their own appointments.

The link's secret is shown once and stored as a SHA-256 digest; revoking the feed makes the
link answer 404. Events say kind, time, place and a short reference, never who the patient is.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from caseload.errors import Forbidden
from caseload.models import ApiToken, Appointment, AuditAction, CalendarFeed, Staff
from caseload.permissions import staff_or_none

from .audit import audit_read, audit_record
from .signins import signin_reauthenticate

SECRET_PREFIX = "cal_"  # noqa: S105 - a public marker, not a secret
# The window a calendar shows: recent past and the coming year.
PAST_DAYS, FUTURE_DAYS = 30, 366


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def calendar_feed_create(
    *, staff: Staff, password: str, via: str = "", minted_with: ApiToken | None = None
) -> tuple[CalendarFeed, str]:
    """A new feed for `staff` and its secret (part of the link), which is never stored.

    Only against the owner's password, as a new token is: a link needs no header and lives
    until revoked, so a stolen token must not be able to turn itself into one. A wrong password
    counts toward the sign-in lockout.
    """
    if not signin_reauthenticate(staff=staff, password=password, via=via):
        raise Forbidden("The password is not correct.", code="invalid_password", field="password")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            staff=staff,
            digest=_digest(secret),
            minted_with=minted_with,
            created_by=staff,
            updated_by=staff,
        )
        audit_record(actor=staff, action=AuditAction.CREATE, obj=feed)
    return feed, secret


def calendar_feeds_revoke_for_tokens(*, staff: Staff, tokens: list | None, actor) -> int:
    """Revoke the live feeds of `staff` made with any of `tokens` (all of them when None):
    revoking credentials revokes the links they made. Call in the revocation's transaction."""
    live = CalendarFeed.objects.filter(staff=staff, revoked_at__isnull=True)
    if tokens is not None:
        live = live.filter(minted_with__in=tokens)
    ids = [str(pk) for pk in live.values_list("pk", flat=True)]
    if ids:
        CalendarFeed.objects.filter(pk__in=ids).update(
            revoked_at=timezone.now(), updated_by=staff_or_none(actor)
        )
        audit_record(
            actor=actor, action=AuditAction.REVOKE, obj=staff, detail={"calendar_feeds": ids}
        )
    return len(ids)


def calendar_feed_revoke(*, feed: CalendarFeed, actor: Staff) -> CalendarFeed:
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), updated_by=actor
        )
        feed.refresh_from_db()
        audit_record(actor=actor, action=AuditAction.REVOKE, obj=feed)
    return feed


def calendar_feed_for_secret(secret: str) -> CalendarFeed | None:
    """The live feed a link names, or None (unknown, revoked, or its owner deactivated)."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    feed = (
        CalendarFeed.objects.select_related("staff")
        .filter(digest=_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.staff.is_active:
        return None
    return feed


def calendar_feed_appointments(*, feed: CalendarFeed) -> QuerySet[Appointment]:
    """The owner's own appointments in the calendar window, audited as the owner's read."""
    now = timezone.now()
    appointments = list(
        Appointment.objects.filter(
            staff=feed.staff,
            start__gte=now - timedelta(days=PAST_DAYS),
            start__lt=now + timedelta(days=FUTURE_DAYS),
        ).order_by("start", "id")
    )
    audit_read(actor=feed.staff, model=Appointment, objects=appointments, action=AuditAction.LIST)
    return appointments


def calendar_feeds_of(staff: Staff) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(staff=staff)
