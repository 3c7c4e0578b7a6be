"""The transactional outbox and the signed webhook deliveries it feeds.

A change to an appointment writes an `OutboxEvent` in its own transaction: if the change rolls
back, so does the event, and a committed event stays in the table until the relay has fanned it
out to the program's subscriptions as `WebhookDelivery` rows. The relay runs after each commit
and from beat, so events committed while the broker is down go out once it is back.

A webhook is a disclosure to its subscription's integration client. At the moment of sending
the client must be enabled, of the program, hold `appointments:read`, and be covered for the
patient by its basis (`qsoa`, or an active consent naming it and covering appointments: the
feed's rule, `integration_lawful_basis`); otherwise the delivery is `withheld` with the reason
and nothing leaves. Each attempt that may have reached the receiver writes the disclosure ledger
and a `disclose` audit event, and carries the 42 CFR 2.32 notice header.

Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256>`, with the `standardwebhooks` library), go only to
an allowed address and never through a redirect (caseload/services/webhook_targets.py). The
secret is stored encrypted (caseload/secret_box.py). A failed delivery is retried with
exponential backoff and jitter (the next attempt time is stored on the row, never held in the
broker); after CASELOAD_WEBHOOK_DISABLE_AFTER consecutive failures the subscription is disabled.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from caseload.dates import iso_z
from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    Appointment,
    AuditAction,
    AuditOutcome,
    DeliveryStatus,
    InformationCategory,
    IntegrationClient,
    IntegrationPrincipal,
    OutboxEvent,
    Patient,
    Staff,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    WithheldReason,
)
from caseload.notice import PART2_NOTICE, PART2_NOTICE_HEADER
from caseload.permissions import integration_may_receive, require_manage_program
from caseload.queue import enqueue, enqueue_on_commit
from caseload.secret_box import open_secret, seal_secret

from .audit import audit_event, audit_record, resource_type_of
from .disclosures import ledger_client_disclosures
from .integrations import integration_lawful_basis
from .webhook_targets import TargetRefused, post_to_target, webhook_check_url

logger = logging.getLogger(__name__)
RELAY_TASK = "caseload.tasks.outbox_relay"
DELIVER_TASK = "caseload.tasks.webhook_deliver"
EVENT_HEADER = "Caseload-Event"


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
            "start": iso_z(appointment.start),
            "end": iso_z(appointment.end),
            "version": appointment.version,
            "occurred_at": iso_z(occurred),
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
        "created_at": iso_z(event.created_at),
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def webhook_signing_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one while a
    rotation's overlap lasts."""
    secrets_now = [open_secret(subscription.secret_encrypted)]
    until = subscription.previous_secret_until
    if subscription.previous_secret_encrypted and until is not None and until > now:
        secrets_now.append(open_secret(subscription.previous_secret_encrypted))
    return secrets_now


def webhook_headers(
    *, delivery: WebhookDelivery, body: bytes, secrets_now: list[str], at: datetime
) -> dict[str, str]:
    """Standard Webhooks headers (the delivery id is the message id, stable across retries and
    replays), signed by each secret in `secrets_now`, space-separated; with the event's name and
    the 42 CFR 2.32 notice every disclosure carries."""
    message_id = str(delivery.pk)
    signatures = " ".join(
        webhook_signer(secret).sign(msg_id=message_id, timestamp=at, data=body)
        for secret in secrets_now
    )
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        EVENT_HEADER: delivery.event.event,
        PART2_NOTICE_HEADER: PART2_NOTICE,
    }


def webhook_signer(secret: str) -> Webhook:
    """The signer of a secret: a `whsec_<base64 key>` secret signs with its key, as every
    Standard Webhooks library reads it; a secret made before signing followed Standard Webhooks
    (not base64) signs with its UTF-8 bytes as the key (`Webhook(secret.encode())` verifies it)."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    return Webhook(key or secret.encode())


def webhook_deliver(*, delivery_id, now: datetime | None = None) -> WebhookDelivery | None:
    """Attempt one delivery, locked so two copies of the task cannot both post it.

    A delivery is a disclosure: the client's right to receive the patient is decided here, at
    the moment of sending, on rows locked until the attempt is recorded (a revocation or a
    disablement waits for it, or is seen by it). Without a basis the delivery is `withheld`
    with the reason and nothing leaves; each attempt that may have reached the receiver is
    ledgered and audited as `disclose`.
    """
    with transaction.atomic():
        delivery = _locked_delivery(delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery
        subscription = delivery.subscription
        now = now or timezone.now()
        if not subscription.active or delivery.next_attempt_at > now:
            return delivery
        patient_id = delivery.event.payload.get("patient")
        withheld, basis = _lawful_basis(subscription, delivery.event.program_id, patient_id)
        if withheld:
            _withhold(delivery, withheld, patient_id)
            return delivery
        body = webhook_body(delivery)
        headers = webhook_headers(
            delivery=delivery,
            body=body,
            secrets_now=webhook_signing_secrets(subscription, now),
            at=timezone.now(),
        )
        delivery.attempts += 1
        code, error, reached = _post(subscription.url, body, headers)
        if reached:
            _ledger(delivery, patient_id, basis, code)
        _record_attempt(delivery, code, error, now)
    return delivery


def _locked_delivery(delivery_id) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription", "subscription__client", "event")
        .filter(pk=delivery_id)
        .first()
    )


def _record_attempt(delivery: WebhookDelivery, code: int | None, error: str, now) -> None:
    """The attempt's outcome on the delivery and its subscription (failures count up)."""
    subscription = delivery.subscription
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


def _lawful_basis(
    subscription: WebhookSubscription, program_id, patient_id
) -> tuple[str, tuple[str | None, str] | None]:
    """(withheld reason or "", (consent id or None, purpose)) for sending this event now."""
    client = subscription.client
    if client is None:
        return WithheldReason.NO_CLIENT, None
    if client.program_id != program_id or subscription.program_id != program_id:
        return WithheldReason.OTHER_PROGRAM, None
    principal = IntegrationPrincipal(client=client, scopes=frozenset(client.scopes))
    if not integration_may_receive(principal, InformationCategory.APPOINTMENTS):
        return WithheldReason.NO_SCOPE, None
    lawful = integration_lawful_basis(
        principal=principal, category=InformationCategory.APPOINTMENTS, patient_ids=[patient_id]
    )
    if str(patient_id) in lawful:
        return "", lawful[str(patient_id)]
    disabled = not IntegrationClient.objects.filter(pk=client.pk, disabled_at__isnull=True).exists()
    return (WithheldReason.CLIENT_DISABLED if disabled else WithheldReason.NO_CONSENT), None


def _withhold(delivery: WebhookDelivery, reason: str, patient_id) -> None:
    delivery.status = DeliveryStatus.WITHHELD
    delivery.withheld_reason = reason
    delivery.save(update_fields=["status", "withheld_reason", "updated_at"])
    audit_event(
        actor=None,
        action=AuditAction.DISCLOSE,
        resource_type=resource_type_of(WebhookDelivery),
        resource_id=delivery.pk,
        patient_ids=_patients_of(delivery, patient_id),
        program_id=delivery.event.program_id,
        client=delivery.subscription.client_id,
        outcome=AuditOutcome.DENIED,
        detail={"withheld": reason, "event": delivery.event.event},
    )


def _ledger(delivery: WebhookDelivery, patient_id, basis: tuple[str | None, str], code) -> None:
    """The ledger row and the `disclose` event of one attempt that may have reached the client."""
    consent_id, purpose = basis
    client = delivery.subscription.client
    ledger_client_disclosures(
        client=client,
        patients=[patient_id],
        information=[InformationCategory.APPOINTMENTS],
        purpose=purpose,
        basis=client.basis,
        consents={str(patient_id): consent_id} if consent_id else None,
    )
    audit_event(
        actor=None,
        action=AuditAction.DISCLOSE,
        resource_type=resource_type_of(WebhookDelivery),
        resource_id=delivery.pk,
        patient_ids=[patient_id],
        program_id=delivery.event.program_id,
        client=client.pk,
        status_code=code,
        detail={
            "event": delivery.event.event,
            "attempt": delivery.attempts,
            "basis": client.basis,
            "information": [InformationCategory.APPOINTMENTS],
        }
        | ({"consent": consent_id} if consent_id else {}),
    )


def _patients_of(delivery: WebhookDelivery, patient_id) -> list:
    """The event's patient, if it is still of the delivery's program (the audit row names it)."""
    if not patient_id:
        return []
    return list(
        Patient.objects.filter(pk=patient_id, program_id=delivery.event.program_id).values_list(
            "pk", flat=True
        )
    )


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
    """A subscription for an integration client of the actor's program, with a new signing
    secret: returned once in the clear, stored encrypted."""
    require_manage_program(actor, actor.program_id, model=WebhookSubscription)
    webhook_check_url(fields.get("url", ""))
    _check_events(fields.get("events", []))
    if fields.get("client_id") is None:
        raise InvalidInput(
            "Name the integration client the deliveries are disclosed to.",
            field="client_id",
            code="required",
        )
    _check_client(actor.program_id, fields["client_id"])
    secret = new_webhook_secret()
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            program_id=actor.program_id,
            created_by=actor,
            secret_encrypted=seal_secret(secret),
            **fields,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=subscription,
            detail=_audited(subscription, sorted(fields)),
        )
    return subscription, secret


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_update(
    *, subscription: WebhookSubscription, changes: dict[str, Any], actor: Staff
) -> WebhookSubscription:
    """Change url, events, client or `active`; re-activating clears the failure count."""
    require_manage_program(actor, subscription.program_id, model=WebhookSubscription)
    if "url" in changes:
        webhook_check_url(changes["url"])
    if "events" in changes:
        _check_events(changes["events"])
    if "client_id" in changes:
        if changes["client_id"] is None:
            raise InvalidInput(
                "A subscription names its integration client.", field="client_id", code="null"
            )
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
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=current,
            detail=_audited(current, sorted(changes)),
        )
    return current


def webhook_rotate_secret(
    *, subscription: WebhookSubscription, actor: Staff, now: datetime | None = None
) -> tuple[WebhookSubscription, str]:
    """A new signing secret, returned once; the current one keeps signing beside it for
    CASELOAD_WEBHOOK_SECRET_OVERLAP_HOURS so the receiver can switch without losing events."""
    require_manage_program(actor, subscription.program_id, model=WebhookSubscription)
    secret = new_webhook_secret()
    now = now or timezone.now()
    with transaction.atomic():
        current = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        current.previous_secret_encrypted = current.secret_encrypted
        current.previous_secret_until = now + timedelta(
            hours=settings.CASELOAD_WEBHOOK_SECRET_OVERLAP_HOURS
        )
        current.secret_encrypted = seal_secret(secret)
        current.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=current,
            detail=_audited(current, ["secret"])
            | {"previous_secret_until": current.previous_secret_until.isoformat()},
        )
    return current, secret


def webhook_replay(
    *, subscription: WebhookSubscription, delivery_id, actor: Staff
) -> WebhookDelivery:
    """Send a delivery again (after a fix on the receiving side): attempts start over, and the
    legal check is made again when it is sent."""
    require_manage_program(actor, subscription.program_id, model=WebhookSubscription)
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
        delivery.withheld_reason = ""
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=subscription,
            detail=_audited(subscription, []) | {"replay": str(delivery.pk)},
        )
    enqueue_on_commit(DELIVER_TASK, str(delivery.pk))
    return delivery


def _audited(subscription: WebhookSubscription, fields: list[str]) -> dict[str, Any]:
    """What an audit row says of a subscription change: never the secret or the URL's query."""
    return {
        "fields": fields,
        "client": str(subscription.client_id) if subscription.client_id else None,
        "events": list(subscription.events),
    }


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


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, bool]:
    """(status, error or "", whether the body may have reached the receiver) of one attempt.

    A refused target or a refused connection never received the body; a timeout or a broken
    answer may have: it is a disclosure all the same."""
    try:
        code = post_to_target(url, body, headers, timeout=settings.CASELOAD_WEBHOOK_TIMEOUT_SECONDS)
    except TargetRefused as exc:
        return None, f"Refused target: {exc}"[:500], False
    except ConnectionRefusedError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], False
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], True
    return code, "" if 200 <= code < 300 else f"HTTP {code}", True
