"""Every moment in every payload is ISO 8601 in UTC ending in `Z`, as docs/api.md promises: the
history, the withdrawal trend, exports and webhook bodies included (they once wrote `+00:00`)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from caseload.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from caseload.services import webhooks
from tests.api.v1.test_background import record_cows
from tests.api.v1.test_permission_matrix import SEVERE_COWS_ITEMS, consent_body
from tests.factories import AppointmentFactory

MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def moments(value) -> list[str]:
    if isinstance(value, dict):
        return [m for item in value.values() for m in moments(item)]
    if isinstance(value, list):
        return [m for item in value for m in moments(item)]
    return [value] if isinstance(value, str) and MOMENT.match(value) else []


def assert_all_in_z(body) -> int:
    found = moments(body)
    assert found and all(m.endswith("Z") for m in found), [m for m in found if not m.endswith("Z")]
    return len(found)


def test_history_trend_and_export_write_moments_in_z(as_user, counselor, patient):
    api = as_user(counselor)
    api.patch(f"/api/v1/patients/{patient.pk}/", {"last_use_at": timezone.now().isoformat()})
    record_cows(api, patient, SEVERE_COWS_ITEMS)
    assert_all_in_z(api.get(f"/api/v1/patients/{patient.pk}/history/").json())
    assert_all_in_z(api.get(f"/api/v1/patients/{patient.pk}/withdrawal-trend/").json())
    consent = api.post("/api/v1/consents/", consent_body(patient)).json()
    exported = api.post(f"/api/v1/patients/{patient.pk}/export/", {"consent": consent["id"]})
    assert_all_in_z(exported.json())


def test_webhook_bodies_write_moments_in_z(supervisor, counselor, patient):
    from tests.conftest import webhook_client

    subscription = WebhookSubscription.objects.create(
        program=supervisor.program,
        client=webhook_client(supervisor.program),
        url="https://hooks.example.org/",
        events=["appointment.created"],
        secret_encrypted="unused",
    )
    AppointmentFactory(
        actor=counselor, patient=patient, staff=counselor, start=timezone.now() + timedelta(days=2)
    )
    event = OutboxEvent.objects.get()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=event, next_attempt_at=timezone.now()
    )
    import json

    assert assert_all_in_z(json.loads(webhooks.webhook_body(delivery))) >= 4
