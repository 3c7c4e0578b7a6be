"""The transactional outbox and the signed webhook deliveries it feeds.

A change to an appointment writes an `OutboxEvent` in its own transaction: if the change rolls
back, so does the event, and a committed event stays in the table until the relay has fanned it
out to the program's subscriptions as `WebhookDelivery` rows. The relay runs after each commit
and from beat, so events committed while the broker is down go out once it is back.

Each delivery is POSTed with `Caseload-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>`, only to an allowed address and never through a redirect
(caseload/services/webhook_targets.py). A failed delivery is retried with exponential backoff
and jitter (the next attempt time is stored on the row, never held in the broker); after
CASELOAD_WEBHOOK_DISABLE_AFTER consecutive failures the subscription is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import random
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    Appointment,
    DeliveryStatus,
    IntegrationClient,
    OutboxEvent,
    Staff,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from caseload.queue import enqueue, enqueue_on_commit

from .webhook_targets import TargetRefused, post_to_target, webhook_check_url

logger = logging.getLogger(__name__)
RELAY_TASK = "caseload.tasks.outbox_relay"
DELIVER_TASK = "caseload.tasks.webhook_deliver"
SIGNATURE_HEADER = "Caseload-Signature"


# Outbox ---------------------------------------------------------------------------------------
def outbox_record_appointment(*, appointment: Appointment, event: str) -> OutboxEvent:
    """Write the event in the caller's transaction; the relay runs once it commits.

    The payload carries ids and times only: nothing clinical, no names.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events are written inside the change's transaction")
    occurred = timezone.now()
    outbox = OutboxEvent.objects.create(
        program_id=appointment.patient.program_id,
        event=event,
        payload={
            "appointment": str(appointment.pk),
            "patient": str(appointment.patient_id),
            "staff": str(appointment.staff_id),
            "start": appointment.start.isoformat(),
            "end": appointment.end.isoformat(),
            "version": appointment.version,
            "occurred_at": occurred.isoformat(),
        },
    )
    enqueue_on_commit(RELAY_TASK)
    return outbox


def outbox_relay(*, limit: int = 500) -> int:
    """Fan unrelayed events out to deliveries and send them; returns how many events."""
    now = timezone.now()
    created: list[str] = []
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(relayed_at__isnull=True)
            .order_by("id")[:limit]
        )
        for event in events:
            for subscription in WebhookSubscription.objects.filter(
                program_id=event.program_id, active=True
            ):
                if event.event not in subscription.events:
                    continue
                delivery, made = WebhookDelivery.objects.get_or_create(
                    subscription=subscription, event=event, defaults={"next_attempt_at": now}
                )
                if made:
                    created.append(str(delivery.pk))
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=now)
    for delivery_id in created:
        enqueue(DELIVER_TASK, delivery_id)
    return len(events)


def webhooks_deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send a task for every pending delivery whose attempt is due (beat re-scan)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            subscription__active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        enqueue(DELIVER_TASK, str(delivery_id))
    return len(due)


# Signing and delivery -------------------------------------------------------------------------
def webhook_body(delivery: WebhookDelivery) -> bytes:
    event = delivery.event
    document = {
        "id": str(delivery.pk),
        "event": event.event,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The `Caseload-Signature` header value."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_deliver(*, delivery_id, now: datetime | None = None) -> WebhookDelivery | None:
    """Attempt one delivery, locked so two copies of the task cannot both post it."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery
        subscription = delivery.subscription
        now = now or timezone.now()
        if not subscription.active or delivery.next_attempt_at > now:
            return delivery
        body = webhook_body(delivery)
        header = webhook_signature(
            secret=subscription.secret, body=body, timestamp=int(time.time())
        )
        delivery.attempts += 1
        try:
            code = post_to_target(
                subscription.url,
                body,
                {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: header,
                    "Caseload-Event": delivery.event.event,
                    "Caseload-Delivery": str(delivery.pk),
                },
                timeout=settings.CASELOAD_WEBHOOK_TIMEOUT_SECONDS,
            )
        except TargetRefused as exc:
            code, error = None, f"Refused target: {exc}"[:500]
        except (OSError, http.client.HTTPException) as exc:
            code, error = None, f"{type(exc).__name__}: {exc}"[:500]
        else:
            error = "" if 200 <= code < 300 else f"HTTP {code}"
        delivery.last_status_code = code
        delivery.last_error = error
        if not error:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = timezone.now()
            subscription.consecutive_failures = 0
        else:
            _failed(delivery, subscription, now)
        delivery.save()
        subscription.save(update_fields=["consecutive_failures", "active", "disabled_at"])
    return delivery


def webhook_backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to base * 2^(attempts-1), capped."""
    base = settings.CASELOAD_WEBHOOK_BACKOFF_SECONDS
    ceiling = min(settings.CASELOAD_WEBHOOK_BACKOFF_CAP_SECONDS, base * 2 ** (attempts - 1))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311


def _failed(delivery: WebhookDelivery, subscription: WebhookSubscription, now: datetime) -> None:
    if delivery.attempts >= settings.CASELOAD_WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = now + webhook_backoff(delivery.attempts)
    subscription.consecutive_failures += 1
    if subscription.consecutive_failures >= settings.CASELOAD_WEBHOOK_DISABLE_AFTER:
        subscription.active = False
        subscription.disabled_at = now


# Subscriptions --------------------------------------------------------------------------------
def webhook_create(*, actor: Staff, fields: dict[str, Any]) -> tuple[WebhookSubscription, str]:
    """A subscription with a new secret, returned once in the clear."""
    webhook_check_url(fields.get("url", ""))
    _check_events(fields.get("events", []))
    _check_client(actor.program_id, fields.get("client_id"))
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription.objects.create(
        program_id=actor.program_id, created_by=actor, secret=secret, **fields
    )
    return subscription, secret


def webhook_update(
    *, subscription: WebhookSubscription, changes: dict[str, Any]
) -> WebhookSubscription:
    """Change url, events or `active`; re-activating clears the failure count."""
    if "url" in changes:
        webhook_check_url(changes["url"])
    if "events" in changes:
        _check_events(changes["events"])
    if "client_id" in changes:
        _check_client(subscription.program_id, changes["client_id"])
    with transaction.atomic():
        current = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        for name, value in changes.items():
            setattr(current, name, value)
        if changes.get("active") is True:
            current.consecutive_failures = 0
            current.disabled_at = None
        elif changes.get("active") is False and current.disabled_at is None:
            current.disabled_at = timezone.now()
        current.save()
    return current


def webhook_replay(*, subscription: WebhookSubscription, delivery_id) -> WebhookDelivery:
    """Send a delivery again (after a fix on the receiving side): attempts start over."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update().filter(
                pk=delivery_id, subscription=subscription
            )
        ).first()
        if delivery is None:
            raise InvalidInput(
                "No such delivery of this webhook.", field="delivery", code="does_not_exist"
            )
        if not subscription.active:
            raise Conflict(
                "The webhook is disabled; set active to true first.",
                code="webhook_disabled",
                field="active",
            )
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save()
    enqueue_on_commit(DELIVER_TASK, str(delivery.pk))
    return delivery


def _check_events(events: Any) -> None:
    if not isinstance(events, list) or not events:
        raise InvalidInput("Name at least one event.", field="events", code="required")
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown:
        raise InvalidInput(
            f"Unknown event {unknown[0]!r}; one of {', '.join(WebhookEvent.values)}.",
            field="events",
            code="invalid_choice",
        )


def _check_client(program_id, client_id) -> None:
    """A subscription delivers only for an integration client of its own program."""
    if (
        client_id is not None
        and not IntegrationClient.objects.filter(pk=client_id, program_id=program_id).exists()
    ):
        raise InvalidInput(
            "No such integration client in this program.", field="client_id", code="does_not_exist"
        )
