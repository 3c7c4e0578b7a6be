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
    if consent.expiry_event_occurred_at is not None:
        return ConsentStatus.EXPIRED
    return ConsentStatus.ACTIVE


def consent_active_at(consent: Consent, moment: datetime) -> bool:
    """Was the consent in force at `moment` (signed, not yet revoked, expired or ended by its
    event)? A disclosure recorded after the fact relies on the consent as it was then."""
    ends = [consent.revoked_at, consent.expires_at, consent.expiry_event_occurred_at]
    return consent.signed_at <= moment and all(end is None or moment < end for end in ends)


def with_status(consents: QuerySet[Consent], now: datetime | None = None) -> QuerySet[Consent]:
    """Annotate `derived_status`, the status as of `now`, so lists can filter on it."""
    now = now or timezone.now()
    return consents.annotate(
        derived_status=Case(
            When(revoked_at__isnull=False, then=Value(ConsentStatus.REVOKED)),
            When(expires_at__lte=now, then=Value(ConsentStatus.EXPIRED)),
            When(expiry_event_occurred_at__isnull=False, then=Value(ConsentStatus.EXPIRED)),
            default=Value(ConsentStatus.ACTIVE),
        )
    )
