"""Scoped reads of the disclosure ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet

from caseload.models import Disclosure, Patient, Staff
from caseload.permissions import records_visible_to

# HIPAA 164.528 and 42 CFR 2.24: an accounting covers up to six years before the request.
ACCOUNTING_PERIOD = timedelta(days=6 * 365 + 2)


def disclosure_list(*, user: Staff) -> QuerySet[Disclosure]:
    return records_visible_to(user, Disclosure).order_by("-disclosed_at", "-id")


def disclosure_accounting(
    *, user: Staff, patient: Patient, since: datetime, until: datetime
) -> QuerySet[Disclosure]:
    """The patient's disclosures from `since` to `until`, newest first."""
    return disclosure_list(user=user).filter(
        patient=patient, disclosed_at__gte=since, disclosed_at__lte=until
    )
