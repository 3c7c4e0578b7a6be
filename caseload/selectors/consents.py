"""Scoped reads of consents, and their status as of a moment (derived, never stored)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone

from caseload.models import Consent, ConsentStatus, Staff
from caseload.permissions import records_visible_to


def consent_list(*, user: Staff) -> QuerySet[Consent]:
    return with_status(records_visible_to(user, Consent))


def consent_status(consent: Consent, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if consent.revoked_at is not None:
        return ConsentStatus.REVOKED
    if consent.expires_at is not None and consent.expires_at <= now:
        return ConsentStatus.EXPIRED
    return ConsentStatus.ACTIVE


def with_status(consents: QuerySet[Consent], now: datetime | None = None) -> QuerySet[Consent]:
    """Annotate `derived_status`, the status as of `now`, so lists can filter on it."""
    now = now or timezone.now()
    return consents.annotate(
        derived_status=Case(
            When(revoked_at__isnull=False, then=Value(ConsentStatus.REVOKED)),
            When(expires_at__lte=now, then=Value(ConsentStatus.EXPIRED)),
            default=Value(ConsentStatus.ACTIVE),
        )
    )
