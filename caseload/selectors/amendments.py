"""Scoped reads of amendment requests, and which are overdue (pending past their 60 days)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from caseload.models import AmendmentRequest, AmendmentStatus, Staff
from caseload.permissions import records_visible_to


def amendment_list(*, user: Staff) -> QuerySet[AmendmentRequest]:
    return records_visible_to(user, AmendmentRequest).order_by("-requested_at", "-id")


def overdue(now: datetime | None = None) -> Q:
    return Q(status=AmendmentStatus.PENDING, due_at__lt=now or timezone.now())


def is_overdue(amendment: AmendmentRequest, now: datetime | None = None) -> bool:
    return amendment.status == AmendmentStatus.PENDING and amendment.due_at < (
        now or timezone.now()
    )
