"""A webhook is a disclosure: sent only when its client may lawfully receive the patient at the
moment of sending, withheld with a reason otherwise, ledgered and audited when sent, signed per
Standard Webhooks (verified here by the `standardwebhooks` library, unchanged), with the secret
stored encrypted and every subscription change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from caseload.models import AuditEvent, Disclosure, WebhookDelivery, WebhookSubscription
from caseload.notice import PART2_NOTICE, PART2_NOTICE_HEADER
from caseload.secret_box import SecretUnreadable, open_secret
from caseload.services import webhooks
from caseload.services.integrations import integration_disable
from tests.api.v1.test_background import book, eager_celery, receiver, subscribe
from tests.api.v1.test_disclosures import consent
from tests.conftest import webhook_client

pytestmark = pytest.mark.django_db(transaction=True)
APPOINTMENTS = ["appointments"]
# Fixtures shared with test_background: tasks run in-process, and the loopback receiver.
__all__ = ["eager_celery", "receiver"]


@pytest.fixture
def hook(receiver):
    return receiver()


def deliveries(as_user, supervisor, subscription) -> list[dict]:
    response = as_user(supervisor).get(f"/api/v1/webhooks/{subscription['id']}/deliveries/")
    assert response.status_code == 200, response.json()
    return response.json()


def webhook_events(outcome: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action="disclose", resource_type="webhookdelivery", outcome=outcome
        )
    )


def test_a_consent_client_gets_nothing_about_a_patient_without_consent(
    as_user, supervisor, counselor, patient, hook
):
    client = webhook_client(supervisor.program, basis="consent")
    subscription = subscribe(as_user(supervisor), hook, client=client)
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))

    assert hook.asked == []  # nothing left the building
    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert (delivery["status"], delivery["withheld_reason"]) == ("withheld", "no_consent")
    assert delivery["attempts"] == 0
    assert not Disclosure.objects.exists()
    (refusal,) = webhook_events("denied")
    assert refusal.patient_id == patient.pk and refusal.client == client.pk
    assert refusal.detail["withheld"] == "no_consent"


def test_a_consent_naming_the_client_lets_it_through_ledgered_audited_and_noticed(
    as_user, supervisor, counselor, patient, hook
):
    client = webhook_client(supervisor.program, basis="consent")
    given = consent(
        counselor, patient, APPOINTMENTS, recipient_client=client.pk, purpose="Reminder calls."
    )
    subscription = subscribe(as_user(supervisor), hook, client=client)
    booked = book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))

    (received,) = hook.received
    assert received["data"]["appointment"] == booked["id"]
    (headers,) = hook.headers
    assert headers[PART2_NOTICE_HEADER] == PART2_NOTICE
    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert delivery["status"] == "succeeded" and delivery["withheld_reason"] == ""
    assert headers["webhook-id"] == delivery["id"]
    (row,) = Disclosure.objects.all()
    assert (row.patient_id, row.client, row.consent_id, row.basis, row.purpose) == (
        patient.pk,
        client.pk,
        given.pk,
        "consent",
        "Reminder calls.",
    )
    assert row.information == APPOINTMENTS
    (event,) = webhook_events("allowed")
    assert (event.patient_id, event.client, event.resource_id) == (
        patient.pk,
        client.pk,
        delivery["id"],
    )
    assert event.detail["consent"] == str(given.pk)
    # The patient's accounting lists it like any other disclosure.
    accounting = as_user(counselor).get(f"/api/v1/patients/{patient.pk}/disclosures/").json()
    assert [d["client"] for d in accounting["results"]] == [str(client.pk)]


def test_a_consent_revoked_before_sending_withholds_the_delivery(
    as_user, supervisor, counselor, patient, receiver, settings
):
    settings.CASELOAD_WEBHOOK_BACKOFF_SECONDS = 1
    hook = receiver(statuses=[503])
    client = webhook_client(supervisor.program, basis="consent")
    given = consent(counselor, patient, APPOINTMENTS, recipient_client=client.pk)
    subscription = subscribe(as_user(supervisor), hook, client=client)
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert delivery["status"] == "pending" and delivery["last_status_code"] == 503
    assert Disclosure.objects.count() == 1  # the failed attempt reached the receiver

    revoked = as_user(counselor).post(f"/api/v1/consents/{given.pk}/revoke/")
    assert revoked.status_code == 200, revoked.json()
    webhooks.webhook_deliver(delivery_id=delivery["id"], now=timezone.now() + timedelta(days=1))

    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert (delivery["status"], delivery["withheld_reason"]) == ("withheld", "no_consent")
    assert hook.asked == ["POST"]  # the retry never left
    assert Disclosure.objects.count() == 1


def test_a_consent_that_does_not_cover_appointments_withholds(
    as_user, supervisor, counselor, patient, hook
):
    client = webhook_client(supervisor.program, basis="consent")
    consent(counselor, patient, ["demographics"], recipient_client=client.pk)
    subscription = subscribe(as_user(supervisor), hook, client=client)
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert delivery["withheld_reason"] == "no_consent" and hook.asked == []


def test_a_disabled_client_receives_nothing(as_user, supervisor, counselor, patient, hook):
    client = webhook_client(supervisor.program)
    subscription = subscribe(as_user(supervisor), hook, client=client)
    integration_disable(client=client, actor=supervisor)
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert (delivery["status"], delivery["withheld_reason"]) == ("withheld", "client_disabled")
    assert hook.asked == []


def test_a_client_without_the_appointments_scope_receives_nothing(
    as_user, supervisor, counselor, patient, hook
):
    client = webhook_client(supervisor.program, scopes=("patients:read",))
    subscription = subscribe(as_user(supervisor), hook, client=client)
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    (delivery,) = deliveries(as_user, supervisor, subscription)
    assert delivery["withheld_reason"] == "no_scope" and hook.asked == []


def test_a_qsoa_client_receives_every_patient_and_each_send_is_ledgered(
    as_user, supervisor, counselor, patient, hook
):
    client = webhook_client(supervisor.program)
    subscribe(as_user(supervisor), hook, client=client)
    booked = book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    as_user(counselor).post(f"/api/v1/appointments/{booked['id']}/cancel/", {"reason": "Ill."})
    assert [d["event"] for d in hook.received] == ["appointment.created", "appointment.cancelled"]
    rows = Disclosure.objects.filter(client=client.pk)
    assert rows.count() == 2 and {r.basis for r in rows} == {"qsoa"}
    assert len(webhook_events("allowed")) == 2


def test_a_subscription_names_a_client_of_its_own_program(as_user, supervisor, other_program, hook):
    foreign = webhook_client(other_program)
    api = as_user(supervisor)
    for client_id in (str(foreign.pk), "7b0c9a53-3c1e-4a3e-9d55-0a0d2c4b1e11"):
        response = api.post(
            "/api/v1/webhooks/",
            {"url": hook.url, "events": ["appointment.created"], "client_id": client_id},
        )
        assert response.status_code == 400, response.json()
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
            ("client_id", "does_not_exist")
        ]
    mine = subscribe(api, hook)
    moved = api.patch(f"/api/v1/webhooks/{mine['id']}/", {"client_id": str(foreign.pk)})
    assert moved.status_code == 400
    assert moved.json()["errors"][0]["field"] == "client_id"
    cleared = api.patch(f"/api/v1/webhooks/{mine['id']}/", {"client_id": None})
    assert cleared.status_code == 400
    assert cleared.json()["errors"][0]["field"] == "client_id"


def test_subscription_changes_are_audited_without_the_secret(
    as_user, supervisor, counselor, patient, receiver, settings
):
    hook = receiver(statuses=[500])
    api = as_user(supervisor)
    subscription = subscribe(api, hook, events=["appointment.created"])
    url = f"/api/v1/webhooks/{subscription['id']}/"
    assert api.patch(url, {"events": ["appointment.cancelled"]}).status_code == 200
    assert api.patch(url, {"events": ["appointment.created"]}).status_code == 200
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    delivery = WebhookDelivery.objects.get()
    assert api.post(f"{url}replay/", {"delivery": str(delivery.pk)}).status_code == 200
    rotated = api.post(f"{url}rotate-secret/")
    assert rotated.status_code == 200, rotated.json()

    log = api.get("/api/v1/audit-events/", {"actor": str(supervisor.pk), "page_size": 100}).json()[
        "results"
    ]
    changes = [
        (e["action"], e["resource_id"]) for e in log if e["resource_type"] == "webhooksubscription"
    ]
    assert sorted(changes) == sorted(
        [("create", subscription["id"])] + [("update", subscription["id"])] * 4
    )
    stored = AuditEvent.objects.filter(resource_type="webhooksubscription")
    for event in stored:
        assert hook.secret not in str(event.detail)
        assert rotated.json()["secret"] not in str(event.detail)


def test_the_secret_is_stored_encrypted(as_user, supervisor, hook, settings):
    subscription = subscribe(as_user(supervisor), hook)
    secret = hook.secret
    assert secret.startswith("whsec_")
    (row,) = WebhookSubscription.objects.filter(pk=subscription["id"]).values()
    stored = " ".join(str(value) for value in row.values())
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    # Another key cannot open it: the database alone yields no secret.
    settings.CASELOAD_SECRET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretUnreadable):
        open_secret(row["secret_encrypted"])


def test_signatures_verify_with_the_library_across_retries_and_a_rotation(
    as_user, supervisor, counselor, patient, receiver, settings
):
    settings.CASELOAD_WEBHOOK_SECRET_OVERLAP_HOURS = 1
    hook = receiver(statuses=[500])
    api = as_user(supervisor)
    subscription = subscribe(api, hook, events=["appointment.created"])
    old_secret = hook.secret
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    delivery = WebhookDelivery.objects.get()
    rotated = api.post(f"/api/v1/webhooks/{subscription['id']}/rotate-secret/").json()
    new_secret = rotated["secret"]
    assert new_secret != old_secret

    # The retry is signed by both secrets: a receiver holding either one verifies it.
    hook.secret = new_secret
    webhooks.webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(minutes=30))
    first, retry = hook.headers
    assert first["webhook-id"] == retry["webhook-id"] == str(delivery.pk)
    assert len(retry["webhook-signature"].split(" ")) == 2
    body = webhooks.webhook_body(WebhookDelivery.objects.get())
    for secret in (old_secret, new_secret):
        Webhook(secret).verify(body, retry)
    assert len(first["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret).verify(body, first)

    # After the overlap only the new secret signs.
    sub = WebhookDelivery.objects.get().subscription
    later = timezone.now() + timedelta(hours=2)
    (only,) = webhooks.webhook_signing_secrets(sub, later)
    assert only == new_secret


def test_the_encryption_key_rotates_without_losing_a_secret(as_user, supervisor, hook, settings):
    import json
    from io import StringIO

    from django.core.management import call_command

    old_key = Fernet.generate_key().decode()
    settings.CASELOAD_SECRET_KEYS = [old_key]
    subscribe(as_user(supervisor), hook)
    stored = WebhookSubscription.objects.get()
    new_key = Fernet.generate_key().decode()
    settings.CASELOAD_SECRET_KEYS = [new_key, old_key]  # the new key first, the old one kept
    out = StringIO()
    call_command("rotate_secret_key", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {"resealed": 1}
    settings.CASELOAD_SECRET_KEYS = [new_key]  # the old key dropped
    rotated = WebhookSubscription.objects.get()
    assert rotated.secret_encrypted != stored.secret_encrypted
    assert open_secret(rotated.secret_encrypted) == hook.secret


def test_a_secret_made_before_standard_webhooks_still_signs_verifiably(
    as_user, supervisor, counselor, patient, hook
):
    """Secrets of the earlier form (`whsec_` + URL-safe text, not base64) sign with their bytes."""
    import secrets

    from caseload.secret_box import seal_secret

    subscribe(as_user(supervisor), hook, events=["appointment.created"])
    legacy = "whsec_" + secrets.token_urlsafe(32)
    WebhookSubscription.objects.update(secret_encrypted=seal_secret(legacy))
    hook.secret = legacy.encode()  # the receiver verifies with Webhook(secret.encode())
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    assert [d["event"] for d in hook.received] == ["appointment.created"]
