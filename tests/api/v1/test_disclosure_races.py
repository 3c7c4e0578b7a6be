"""A disclosure and its consent in one transaction, raced on PostgreSQL: an export or an
integration page racing the revocation of the consent it relies on is either refused or
ledgered before the revocation, and what a client receives is exactly what is ledgered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import Consent, Disclosure, WebhookDelivery
from caseload.services import webhooks
from tests.api.v1.test_background import book, receiver, subscribe
from tests.api.v1.test_disclosures import consent
from tests.concurrency import at_once
from tests.conftest import api_for, integration_for, webhook_client
from tests.factories import AppointmentFactory, EnrollmentFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 25
__all__ = ["receiver"]  # the loopback receiver fixture of test_background


def test_an_export_racing_a_revocation_is_refused_or_ledgered_before_it(
    as_user, counselor, patient
):
    exporter, revoker = as_user(counselor), as_user(counselor)
    outcomes = {200: 0, 409: 0}
    for _ in range(ROUNDS):
        given = consent(counselor, patient, ["appointments", "enrollments"])
        before = set(Disclosure.objects.values_list("pk", flat=True))
        exported, revoked = at_once(
            lambda c=given: (
                exporter.post(
                    f"/api/v1/patients/{patient.pk}/export/", {"consent": str(c.pk)}
                ).status_code
            ),
            lambda c=given: revoker.post(f"/api/v1/consents/{c.pk}/revoke/").status_code,
        )
        assert revoked == 200
        outcomes[exported] += 1
        given = Consent.objects.get(pk=given.pk)
        new = Disclosure.objects.exclude(pk__in=before)
        if exported == 200:
            (row,) = new
            assert row.consent_id == given.pk
            assert row.disclosed_at < given.revoked_at
        else:
            assert exported == 409 and not new.exists()
    assert sum(outcomes.values()) == ROUNDS


def test_a_consent_clients_page_racing_a_revocation_ledgers_exactly_what_it_sent(
    supervisor, counselor, program
):
    client = integration_for(program, name="reminders", scopes=["appointments:read"])
    client.record.basis = "consent"
    client.record.save(update_fields=["basis"])
    revoker_api = api_for(counselor)
    start = timezone.now() + timedelta(days=3)
    consents = []
    for index in range(6):
        patient = PatientFactory(actor=supervisor)
        EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselor)
        AppointmentFactory(
            actor=supervisor,
            patient=patient,
            staff=counselor,
            start=start + timedelta(hours=index),
            end=start + timedelta(hours=index, minutes=50),
        )
        consents.append(
            consent(counselor, patient, ["appointments"], recipient_client=client.record.pk)
        )
    for round_ in range(len(consents)):
        target = consents[round_]
        before = set(Disclosure.objects.values_list("pk", flat=True))
        page, revoked = at_once(
            lambda: client.get("/api/v1/appointments/", {"page_size": 100}),
            lambda c=target: revoker_api.post(f"/api/v1/consents/{c.pk}/revoke/").status_code,
        )
        assert page.status_code == 200 and revoked == 200
        sent = {row["patient"] for row in page.json()["results"]}
        ledgered = Disclosure.objects.exclude(pk__in=before)
        assert {str(pk) for pk in ledgered.values_list("patient_id", flat=True)} == sent
        target = Consent.objects.get(pk=target.pk)
        for row in ledgered.filter(patient_id=target.patient_id):
            assert row.disclosed_at < target.revoked_at
        # Every earlier round's revoked patient is gone from the page.
        assert not sent & {str(c.patient_id) for c in consents[:round_]}


def test_a_webhook_racing_a_revocation_is_withheld_or_ledgered_before_it(
    as_user, supervisor, counselor, patient, receiver
):
    from config.celery import app

    app.conf.task_always_eager, was_eager = True, app.conf.task_always_eager
    try:
        hook = receiver()
        hook.delay = 0.05
        client = webhook_client(supervisor.program, basis="consent")
        subscribe(as_user(supervisor), hook, events=["appointment.created"], client=client)
        revoker = as_user(counselor)
        outcomes = {"succeeded": 0, "withheld": 0}

        def retry(delivery):
            later = timezone.now() + timedelta(days=1)
            return webhooks.webhook_deliver(delivery_id=delivery.pk, now=later).status

        for index in range(ROUNDS):
            given = consent(counselor, patient, ["appointments"], recipient_client=client.pk)
            hook.statuses = [503]  # the first attempt fails, so the retry races the revoke
            book(revoker, patient, counselor, starts_in=timedelta(days=2, hours=index))
            delivery = WebhookDelivery.objects.get(status="pending")
            before = set(Disclosure.objects.values_list("pk", flat=True))
            sent, revoked = at_once(
                lambda d=delivery: retry(d),
                lambda c=given: revoker.post(f"/api/v1/consents/{c.pk}/revoke/").status_code,
            )
            assert revoked == 200
            outcomes[sent] += 1
            given = Consent.objects.get(pk=given.pk)
            new = Disclosure.objects.exclude(pk__in=before)
            if sent == "succeeded":
                (row,) = new
                assert row.consent_id == given.pk and row.disclosed_at < given.revoked_at
            else:
                assert not new.exists()
        assert sum(outcomes.values()) == ROUNDS
    finally:
        app.conf.task_always_eager = was_eager
