"""Scoped reads of what belongs to a staff member or their program, not to a patient: colleagues,
their own tokens and work items, and the program's webhook subscriptions."""

from __future__ import annotations

from django.db.models import QuerySet

from caseload.models import (
    Alert,
    ApiToken,
    FollowUp,
    Staff,
    WebhookDelivery,
    WebhookSubscription,
)


def colleagues_of(user: Staff) -> QuerySet[Staff]:
    """Staff of the user's program, by username."""
    return Staff.objects.filter(program_id=user.program_id).order_by("username")


def tokens_of(user: Staff) -> QuerySet[ApiToken]:
    """The user's own personal API tokens."""
    return ApiToken.objects.filter(staff=user)


def follow_ups_of(user: Staff) -> QuerySet[FollowUp]:
    """Follow-ups assigned to the user."""
    return FollowUp.objects.filter(staff=user)


def alerts_for(user: Staff) -> QuerySet[Alert]:
    """Alerts addressed to the user."""
    return Alert.objects.filter(recipient=user)


def webhooks_of_program(user: Staff) -> QuerySet[WebhookSubscription]:
    """The webhook subscriptions of the user's program."""
    return WebhookSubscription.objects.filter(program_id=user.program_id)


DELIVERY_LOG_LENGTH = 100


def delivery_log(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """The subscription's latest deliveries, newest first."""
    latest = subscription.deliveries.select_related("event").order_by("-created_at", "-id")
    return latest[:DELIVERY_LOG_LENGTH]
