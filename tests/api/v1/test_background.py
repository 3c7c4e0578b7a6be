"""Background work through the API: reminders, no-shows and follow-ups, alerts, webhooks.

Celery runs eagerly here (no broker): the same services the worker runs, in-process.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from caseload.models import (
    Appointment,
    AuditEvent,
    OutboxEvent,
    Reminder,
    WebhookDelivery,
)
from caseload.services import reminders, webhooks
from caseload.services.appointments import appointments_mark_noshows
from caseload.sms import TwilioSmsBackend
from config.celery import app as celery_app
from tests.api.v1.test_permission_matrix import SEVERE_COWS_ITEMS
from tests.conftest import webhook_client
from tests.factories import AppointmentFactory, PatientFactory

SMS_LOG = "tests.sms_backends.MemorySmsBackend"


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process here, whatever the configured broker (the worker tests use one)."""
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = was_eager


@pytest.fixture
def sent_sms():
    from tests.sms_backends import MemorySmsBackend

    MemorySmsBackend.sent.clear()
    with override_settings(CASELOAD_SMS_BACKEND=SMS_LOG):
        yield MemorySmsBackend.sent


def book(api, patient, staff, *, starts_in=timedelta(hours=3), location="Room 3"):
    start = (timezone.now() + starts_in).replace(microsecond=0)
    response = api.post(
        "/api/v1/appointments/",
        {
            "patient": str(patient.pk),
            "staff": str(staff.pk),
            "kind": "counseling",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=50)).isoformat(),
            "location": location,
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


def opt_in(api, patient, channel, **contact):
    response = api.patch(
        f"/api/v1/patients/{patient.pk}/", {"reminder_channel": channel, **contact}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["reminder_channel"] == channel


# Reminders ------------------------------------------------------------------------------------
def test_an_sms_reminder_is_sent_once_in_neutral_words(as_user, counselor, patient, sent_sms):
    api = as_user(counselor)
    opt_in(api, patient, "sms", phone="555-0100")
    booked = book(api, patient, counselor)
    assert booked["reminder_due_at"] is not None  # due now: the start is within the lead

    assert reminders.reminders_send_due() == 1
    assert reminders.reminders_send_due() == 0  # the second scan finds nothing to send
    reminders.reminder_send(reminder_id=Reminder.objects.get().pk)  # a duplicate task
    assert len(sent_sms) == 1
    to, body, key = sent_sms[0]
    assert to == "555-0100"
    program = patient.program
    assert body.startswith(program.reminder_text)
    assert "Room 3" in body
    for revealing in (program.name, program.code, "counsel", "treatment", "opioid"):
        assert revealing.lower() not in body.lower()

    listed = api.get(f"/api/v1/appointments/{booked['id']}/reminders/").json()
    assert [(r["status"], r["channel"], r["attempts"]) for r in listed] == [("sent", "sms", 1)]
    assert key == Reminder.objects.get().idempotency_key
    assert AuditEvent.objects.filter(
        action="read", actor=counselor, patient=patient, detail__view="reminders"
    ).exists()


def test_an_email_reminder_goes_through_the_email_backend(as_user, counselor, patient):
    api = as_user(counselor)
    opt_in(api, patient, "email", email="avery@example.org")
    book(api, patient, counselor)
    reminders.reminders_send_due()
    reminders.reminders_send_due()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["avery@example.org"]
    assert patient.program.name not in mail.outbox[0].body + mail.outbox[0].subject


def test_no_channel_means_no_message(as_user, counselor, patient, sent_sms):
    api = as_user(counselor)
    booked = book(api, patient, counselor)
    reminders.reminders_send_due()
    assert sent_sms == [] and mail.outbox == []
    listed = api.get(f"/api/v1/appointments/{booked['id']}/reminders/").json()
    assert [r["status"] for r in listed] == ["skipped"]


def test_rescheduled_gets_a_new_reminder_and_cancelled_none(as_user, counselor, patient, sent_sms):
    api = as_user(counselor)
    opt_in(api, patient, "sms", phone="555-0100")
    moved = book(api, patient, counselor, starts_in=timedelta(days=3))
    cancelled = book(api, patient, counselor, starts_in=timedelta(days=4))
    new_start = (timezone.now() + timedelta(hours=5)).replace(microsecond=0)
    response = api.patch(
        f"/api/v1/appointments/{moved['id']}/",
        {"start": new_start.isoformat(), "end": (new_start + timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == moved["version"] + 1
    response = api.post(f"/api/v1/appointments/{cancelled['id']}/cancel/", {"reason": "Ill."})
    assert response.status_code == 200

    assert reminders.reminders_send_due() == 1
    assert len(sent_sms) == 1
    listed = api.get(f"/api/v1/appointments/{moved['id']}/reminders/").json()
    assert sorted(r["status"] for r in listed) == ["cancelled", "sent"]
    listed = api.get(f"/api/v1/appointments/{cancelled['id']}/reminders/").json()
    assert [r["status"] for r in listed] == ["cancelled"]
    # Even a stray task for the cancelled appointment's reminder sends nothing.
    reminders.reminder_send(reminder_id=listed[0]["id"])
    assert len(sent_sms) == 1


def test_a_failed_send_is_retried_by_the_next_scan(as_user, counselor, patient, sent_sms):
    from tests.sms_backends import MemorySmsBackend

    api = as_user(counselor)
    opt_in(api, patient, "sms", phone="555-0100")
    booked = book(api, patient, counselor)
    MemorySmsBackend.fail_next = 1
    reminders.reminders_send_due()
    listed = api.get(f"/api/v1/appointments/{booked['id']}/reminders/").json()
    assert [(r["status"], r["attempts"]) for r in listed] == [("pending", 1)]
    assert "SmsError" in listed[0]["last_error"]
    reminders.reminders_send_due()
    listed = api.get(f"/api/v1/appointments/{booked['id']}/reminders/").json()
    assert [(r["status"], r["attempts"]) for r in listed] == [("sent", 2)]
    assert len(sent_sms) == 1


def test_the_twilio_adapter_builds_a_signed_form_post():
    with override_settings(
        CASELOAD_SMS_TWILIO_ACCOUNT_SID="AC123",
        CASELOAD_SMS_TWILIO_AUTH_TOKEN="tok",
        CASELOAD_SMS_TWILIO_FROM="+15550001",
    ):
        request = TwilioSmsBackend().build_request(to="+15550100", body="Hi.", idempotency_key="k1")
    assert request.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    assert request.get_header("I-twilio-idempotency-token") == "k1"
    assert request.get_header("Authorization") == "Basic QUMxMjM6dG9r"
    assert request.data == b"To=%2B15550100&From=%2B15550001&Body=Hi."


# No-shows and follow-ups -------------------------------------------------------------------
def test_a_booked_appointment_past_the_grace_becomes_a_noshow_with_a_follow_up(
    as_user, counselor, supervisor, patient
):
    ended_long_ago = timezone.now() - timedelta(hours=2)
    overdue = AppointmentFactory(
        actor=supervisor,
        patient=patient,
        staff=supervisor,
        start=ended_long_ago - timedelta(hours=1),
        end=ended_long_ago,
        booked_at=ended_long_ago - timedelta(days=1),
    )
    just_ended = timezone.now() - timedelta(minutes=10)
    within_grace = AppointmentFactory(
        actor=supervisor,
        patient=patient,
        staff=supervisor,
        start=just_ended - timedelta(hours=1),
        end=just_ended,
        booked_at=just_ended - timedelta(days=1),
    )
    assert appointments_mark_noshows() == 1
    assert appointments_mark_noshows() == 0
    overdue.refresh_from_db()
    assert overdue.status == "noshow"
    assert overdue.version == 2  # through the transition service: versioned and audited
    assert Appointment.objects.get(pk=within_grace.pk).status == "booked"

    api = as_user(counselor)  # the patient's counselor, not the appointment's staff member
    (follow_up,) = api.get("/api/v1/follow-ups/").json()["results"]
    assert follow_up["appointment"] == str(overdue.pk)
    assert follow_up["status"] == "open"
    assert as_user(supervisor).get("/api/v1/follow-ups/").json()["results"] == []
    done = api.post(f"/api/v1/follow-ups/{follow_up['id']}/done/")
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = api.post(f"/api/v1/follow-ups/{follow_up['id']}/done/")
    assert again.status_code == 409 and again.json()["code"] == "already_done"


# Alerts ---------------------------------------------------------------------------------------
def record_cows(api, patient, items):
    response = api.post(
        "/api/v1/assessments/",
        {
            "patient": str(patient.pk),
            "instrument": "cows",
            "items": items,
            "administered_at": timezone.now().isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_alert_closes_with_the_reason_when_its_assessment_is_entered_in_error(
    as_user, counselor, prescriber, patient
):
    assessment = record_cows(as_user(counselor), patient, SEVERE_COWS_ITEMS)
    (alert,) = as_user(prescriber).get("/api/v1/alerts/").json()["results"]
    assert alert["status"] == "open"
    corrected = as_user(counselor).post(
        f"/api/v1/assessments/{assessment['id']}/entered-in-error/",
        {"reason": "Scored for the wrong patient."},
    )
    assert corrected.status_code == 200, corrected.json()
    closed = as_user(prescriber).get(f"/api/v1/alerts/{alert['id']}/").json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert closed["closed_reason"] == "Assessment entered in error: Scored for the wrong patient."
    refused = as_user(prescriber).post(f"/api/v1/alerts/{alert['id']}/acknowledge/")
    assert refused.status_code == 409 and refused.json()["code"] == "alert_closed"
    # A new finding raises a new alert.
    record_cows(as_user(counselor), patient, SEVERE_COWS_ITEMS)
    statuses = [a["status"] for a in as_user(prescriber).get("/api/v1/alerts/").json()["results"]]
    assert sorted(statuses) == ["closed", "open"]


def test_an_alert_standing_for_a_later_finding_stays_open_when_the_first_is_corrected(
    as_user, counselor, prescriber, patient
):
    first = record_cows(as_user(counselor), patient, SEVERE_COWS_ITEMS)
    second = record_cows(as_user(counselor), patient, SEVERE_COWS_ITEMS)
    (alert,) = as_user(prescriber).get("/api/v1/alerts/").json()["results"]
    assert alert["assessment"] == first["id"]
    as_user(counselor).post(
        f"/api/v1/assessments/{first['id']}/entered-in-error/", {"reason": "Duplicate entry."}
    )
    (alert,) = as_user(prescriber).get("/api/v1/alerts/").json()["results"]
    assert (alert["status"], alert["assessment"]) == ("open", second["id"])


def test_a_severe_cows_alerts_the_prescriber_once_until_acknowledged(
    as_user, counselor, prescriber, supervisor, patient
):
    api = as_user(counselor)
    first = record_cows(api, patient, SEVERE_COWS_ITEMS)
    assert first["severity"] == "moderately_severe"
    record_cows(api, patient, SEVERE_COWS_ITEMS)
    alerts = as_user(prescriber).get("/api/v1/alerts/").json()["results"]
    assert [(a["kind"], a["assessment"]) for a in alerts] == [("cows_severe", first["id"])]
    assert as_user(supervisor).get("/api/v1/alerts/").json()["results"] == []
    assert api.get("/api/v1/alerts/").json()["results"] == []

    acked = as_user(prescriber).post(f"/api/v1/alerts/{alerts[0]['id']}/acknowledge/")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    again = as_user(prescriber).post(f"/api/v1/alerts/{alerts[0]['id']}/acknowledge/")
    assert again.status_code == 409
    record_cows(api, patient, SEVERE_COWS_ITEMS)
    assert len(as_user(prescriber).get("/api/v1/alerts/").json()["results"]) == 2


def test_a_mild_cows_raises_nothing_and_no_prescriber_means_the_supervisor(
    as_user, supervisor, prescriber, patient
):
    api = as_user(supervisor)
    from tests.api.v1.test_permission_matrix import COWS_ITEMS

    record_cows(api, patient, COWS_ITEMS)  # moderate
    assert as_user(prescriber).get("/api/v1/alerts/").json()["results"] == []
    unassigned = PatientFactory(actor=supervisor)
    record_cows(api, unassigned, SEVERE_COWS_ITEMS)
    (alert,) = api.get("/api/v1/alerts/").json()["results"]
    assert alert["patient"] == str(unassigned.pk)


def test_a_checklist_meeting_criteria_raises_an_alert(as_user, counselor, prescriber, patient):
    from caseload.instruments import item_keys

    response = as_user(counselor).post(
        "/api/v1/assessments/",
        {
            "patient": str(patient.pk),
            "instrument": "withdrawal_checklist",
            "items": dict.fromkeys(item_keys("withdrawal_checklist"), True),
            "administered_at": timezone.now().isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["meets_withdrawal_criteria"] is True
    (alert,) = as_user(prescriber).get("/api/v1/alerts/").json()["results"]
    assert alert["kind"] == "withdrawal_criteria"


# Webhooks -------------------------------------------------------------------------------------
class Receiver:
    """An HTTP receiver on loopback that checks each delivery's signature."""

    def __init__(self, statuses=()):
        self.received: list[dict] = []
        self.statuses = list(statuses)
        self.secret = ""
        self.location = ""  # sent with a 3xx answer
        self.asked: list[str] = []  # every request's method, signed or not
        self.headers: list[dict] = []  # every POST's headers
        self.delay = 0.0  # seconds each POST takes to answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                receiver.asked.append("GET")
                self.send_response(200)
                self.end_headers()

            def do_POST(self):
                receiver.asked.append("POST")
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                receiver.headers.append(headers)
                try:  # the Standard Webhooks library, unchanged, verifies every delivery
                    Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                time.sleep(receiver.delay)
                if verified and status < 300:
                    receiver.received.append(json.loads(body))
                self.send_response(status if verified else 401)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for one in made:
        one.close()


def subscribe(
    api, receiver, events=("appointment.created", "appointment.cancelled"), *, client=None
):
    """Subscribe `receiver` for `client` (by default a new QSOA client of the caller's
    program holding appointments:read)."""
    if client is None:
        client = webhook_client(api.user.program)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "events": list(events), "client_id": str(client.pk)},
    )
    assert response.status_code == 201, response.json()
    receiver.secret = response.json()["secret"]
    assert "secret" not in api.get(f"/api/v1/webhooks/{response.json()['id']}/").json()
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_committed_changes_are_delivered_signed_and_a_rolled_back_one_never(
    as_user, supervisor, counselor, patient, receiver
):
    hook = receiver()
    subscription = subscribe(as_user(supervisor), hook)
    api = as_user(counselor)
    booked = book(api, patient, counselor, starts_in=timedelta(days=2))
    api.post(f"/api/v1/appointments/{booked['id']}/cancel/", {"reason": "Ill."})
    with pytest.raises(RuntimeError), transaction.atomic():
        AppointmentFactory(actor=counselor, patient=patient, staff=counselor)
        raise RuntimeError("roll the booking back")

    assert [d["event"] for d in hook.received] == ["appointment.created", "appointment.cancelled"]
    data = hook.received[0]["data"]
    assert data["appointment"] == booked["id"]
    # Ids and times only: nothing clinical, no names.
    assert set(data) == {
        "appointment",
        "patient",
        "staff",
        "start",
        "end",
        "version",
        "occurred_at",
    }
    assert OutboxEvent.objects.count() == 2  # the rolled-back booking left no event
    log = as_user(supervisor).get(f"/api/v1/webhooks/{subscription['id']}/deliveries/").json()
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in log} == {
        ("succeeded", 1, 204)
    }


@pytest.mark.django_db(transaction=True)
@override_settings(CASELOAD_WEBHOOK_DISABLE_AFTER=3)
def test_failures_back_off_then_disable_and_a_replay_delivers(
    as_user, supervisor, counselor, patient, receiver
):
    hook = receiver(statuses=[500, 503, 500])
    subscription = subscribe(as_user(supervisor), hook, events=["appointment.created"])
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=10)  # backed off

    # Not yet due: nothing is posted.
    webhooks.webhook_deliver(delivery_id=delivery.pk)
    assert WebhookDelivery.objects.get().attempts == 1
    for days in (1, 2):
        webhooks.webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=days))
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.last_status_code == 500
    sub = as_user(supervisor).get(f"/api/v1/webhooks/{subscription['id']}/").json()
    assert sub["active"] is False and sub["consecutive_failures"] == 3
    assert hook.received == []

    url = f"/api/v1/webhooks/{subscription['id']}/replay/"
    refused = as_user(supervisor).post(url, {"delivery": str(delivery.pk)})
    assert refused.status_code == 409 and refused.json()["code"] == "webhook_disabled"
    as_user(supervisor).patch(f"/api/v1/webhooks/{subscription['id']}/", {"active": True})
    replayed = as_user(supervisor).post(url, {"delivery": str(delivery.pk)})
    assert replayed.status_code == 200, replayed.json()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [d["event"] for d in hook.received] == ["appointment.created"]


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.CASELOAD_WEBHOOK_BACKOFF_SECONDS = 10
    settings.CASELOAD_WEBHOOK_BACKOFF_CAP_SECONDS = 100
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (5, 100), (9, 100)):
        waits = {webhooks.webhook_backoff(attempts).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered


def test_a_webhook_names_known_events_and_an_http_url(as_user, supervisor):
    api = as_user(supervisor)
    response = api.post(
        "/api/v1/webhooks/", {"url": "ftp://example.org/x", "events": ["appointment.moved"]}
    )
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("url", "invalid"),
        ("events.0", "invalid_choice"),
        ("client_id", "required"),
    ]


# Database rules -------------------------------------------------------------------------------
def test_the_database_holds_one_reminder_per_start_and_lead(as_user, counselor, patient):
    from django.db import IntegrityError

    booked = book(as_user(counselor), patient, counselor)
    appointment = Appointment.objects.get(pk=booked["id"])
    assert reminders.reminders_plan(appointment=appointment) == list(Reminder.objects.all())
    existing = Reminder.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            appointment=appointment,
            lead_minutes=existing.lead_minutes,
            appointment_start=existing.appointment_start,
            due_at=existing.due_at,
            idempotency_key="another-key",
        )


def test_the_database_holds_one_open_alert_per_patient_and_kind(
    as_user, counselor, prescriber, patient
):
    from django.db import IntegrityError

    from caseload.models import Alert

    record_cows(as_user(counselor), patient, SEVERE_COWS_ITEMS)
    alert = Alert.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            patient=patient, recipient=prescriber, kind=alert.kind, assessment=alert.assessment
        )
    Alert.objects.filter(pk=alert.pk).update(status="acknowledged")
    Alert.objects.create(
        patient=patient, recipient=prescriber, kind=alert.kind, assessment=alert.assessment
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # a cloud metadata service
        "http://10.0.0.5/hook",
        "http://[::ffff:127.0.0.1]:6379/",  # loopback spelled as IPv6
        "http://0.0.0.0:5432/",
        "https://user:pass@hooks.example.org/x",
    ],
)
def test_a_webhook_cannot_point_inside_the_clinics_network(as_user, supervisor, settings, url):
    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = []
    client = str(webhook_client(supervisor.program).pk)
    response = as_user(supervisor).post(
        "/api/v1/webhooks/", {"url": url, "events": ["appointment.created"], "client_id": client}
    )
    assert response.status_code == 400, response.json()
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("url", "disallowed_target")
    ]


def test_plain_http_is_refused_unless_allowed(as_user, supervisor, settings):
    settings.CASELOAD_WEBHOOK_ALLOW_HTTP = False
    api = as_user(supervisor)
    body = {
        "events": ["appointment.created"],
        "client_id": str(webhook_client(api.user.program).pk),
    }
    refused = api.post("/api/v1/webhooks/", {"url": "http://hooks.example.org/x", **body})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "disallowed_target"
    created = api.post("/api/v1/webhooks/", {"url": "https://hooks.example.org/", **body})
    assert created.status_code == 201, created.json()
    moved = api.patch(f"/api/v1/webhooks/{created.json()['id']}/", {"url": "http://127.0.0.1/"})
    assert moved.status_code == 400
    assert moved.json()["errors"][0]["field"] == "url"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_checks_the_address_again_and_never_follows_a_redirect(
    as_user, supervisor, counselor, patient, receiver, settings
):
    inner = receiver()
    outer = receiver(statuses=[302])
    outer.location = inner.url
    subscribe(as_user(supervisor), outer, events=["appointment.created"])
    inner.secret = outer.secret
    book(as_user(counselor), patient, counselor, starts_in=timedelta(days=2))
    delivery = WebhookDelivery.objects.get()
    # The receiver answered 302 towards another host: a failure, and that host was never asked.
    assert delivery.status == "pending" and delivery.last_status_code == 302
    assert outer.asked == ["POST"] and inner.asked == []

    # The name now resolves somewhere refused (as after DNS rebinding): nothing is sent.
    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = []
    webhooks.webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=1))
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused target:")
    assert outer.asked == ["POST"]

    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    webhooks.webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=2))
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [d["event"] for d in outer.received] == ["appointment.created"]


# IPv6 forms that lead to an IPv4 address are judged by that address (checked without ever
# connecting: the checking function, and creation requests, which refuse before any connection).
EMBEDDED_IPV4_FORMS = {
    "::ffff:{v4}": "IPv4-mapped",
    "::ffff:0:{v4}": "IPv4-translated",
    "::{v4}": "IPv4-compatible",
    "64:ff9b::{v4}": "NAT64",
}
INNER_REFUSED = ["127.0.0.1", "10.0.0.5", "169.254.169.254", "192.168.1.1", "0.0.0.0"]  # noqa: S104


def six_to_four(v4: str) -> str:
    import ipaddress

    packed = int(ipaddress.IPv4Address(v4))
    return f"2002:{packed >> 16:x}:{packed & 0xFFFF:x}::1"


@pytest.mark.parametrize("inner", INNER_REFUSED)
@pytest.mark.parametrize("form", [*EMBEDDED_IPV4_FORMS, "6to4"])
def test_an_ipv6_address_leading_to_a_private_ipv4_address_is_refused(settings, form, inner):
    import ipaddress

    from caseload.services.webhook_targets import embedded_ipv4, webhook_address_allowed

    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = []
    text = six_to_four(inner) if form == "6to4" else form.format(v4=inner)
    address = ipaddress.ip_address(text)
    assert embedded_ipv4(address) == ipaddress.IPv4Address(inner)
    assert webhook_address_allowed(address) is False


@pytest.mark.parametrize(
    "text", ["fec0::1", "64:ff9b:1::a00:5", "2001:0:4136:e378::1", "::", "::1"]
)
def test_site_local_local_use_nat64_teredo_and_unspecified_are_refused(settings, text):
    import ipaddress

    from caseload.services.webhook_targets import webhook_address_allowed

    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = []
    assert webhook_address_allowed(ipaddress.ip_address(text)) is False


def test_an_embedded_address_in_a_listed_network_is_allowed(settings):
    import ipaddress

    from caseload.services.webhook_targets import webhook_address_allowed

    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = ["198.51.100.0/24"]  # documentation range
    assert webhook_address_allowed(ipaddress.ip_address("64:ff9b::198.51.100.7"))
    assert not webhook_address_allowed(ipaddress.ip_address("64:ff9b::10.0.0.5"))


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::a9fe:a9fe]",  # NAT64 to 169.254.169.254
        "[2002:a00:5::1]",  # 6to4 to 10.0.0.5
        "[::7f00:1]",  # IPv4-compatible 127.0.0.1
        "[::ffff:0:7f00:1]",  # IPv4-translated 127.0.0.1
        "[fec0::1]",  # site-local
    ],
)
def test_a_webhook_naming_an_ipv6_form_of_a_private_address_is_refused_at_creation(
    as_user, supervisor, settings, host
):
    settings.CASELOAD_WEBHOOK_ALLOWED_NETWORKS = []
    client = str(webhook_client(supervisor.program).pk)
    response = as_user(supervisor).post(
        "/api/v1/webhooks/",
        {"url": f"https://{host}/hook", "events": ["appointment.created"], "client_id": client},
    )
    assert response.status_code == 400, response.json()
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("url", "disallowed_target")
    ]
