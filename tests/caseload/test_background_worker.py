"""Fault tests on a real `celery worker` over Redis and the PostgreSQL test database.

CI runs these with REDIS_URL and DATABASE_URL set; without a broker they skip locally and fail in
CI. Each starts its own worker process against the same database the test writes to.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from caseload.models import OutboxEvent, Reminder
from caseload.services.appointments import appointment_create
from caseload.services.patients import patient_update
from caseload.services.reminders import reminders_send_due
from caseload.services.tokens import token_issue
from caseload.services.webhooks import webhook_create
from config.celery import app as celery_app
from tests.api.v1.test_background import Receiver
from tests.conftest import webhook_client
from tests.gunicorn_server import serving
from tests.load import wait_until, writers
from tests.private_services import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30
SEND = "caseload.tasks.reminder_send"


def _database_url_for_worker() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail(
            "REDIS_URL is set but the test database is "
            f"{connection.vendor} ({db['NAME']}): a Celery worker process cannot share an "
            "in-memory test database. Set DATABASE_URL to PostgreSQL as well, or unset REDIS_URL."
        )
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def start_worker(request, transactional_db, tmp_path):
    """`start_worker(pool=..., **env)`: a real worker process; every one is stopped afterwards."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        if os.environ.get("CI") or os.environ.get("CASELOAD_REQUIRE_BROKER"):
            pytest.fail("This test needs a broker and CI must run it with one (set REDIS_URL).")
        pytest.skip("needs a real broker (set REDIS_URL and DATABASE_URL to PostgreSQL)")
    # One broker test at a time per broker database: pytest-xdist may run two at once, and a
    # worker of one would take the other's messages. The lock is released when the file closes.
    digest = hashlib.sha256(settings.REDIS_URL.encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir(), f"caseload-broker-{digest}.lock").open("w")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    request.addfinalizer(lock.close)
    _clear_broker()
    workers = []

    def start(pool: str = "solo", concurrency: int = 1, **extra_env: str):
        env = os.environ | {
            "DATABASE_URL": _database_url_for_worker(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_CONN_MAX_AGE": "0",
            "CASELOAD_SMS_BACKEND": "tests.sms_backends.FileSmsBackend",
            "CASELOAD_TEST_SMS_FILE": str(tmp_path / "sms.jsonl"),
            **extra_env,
        }
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the finalizer
            mode="w+", prefix="celery-worker-", suffix=".log"
        )
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config.celery",
                "worker",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append((process, log))

        def read_log() -> str:
            log.flush()
            log.seek(0)
            return log.read()[-4000:]

        return process, read_log

    def stop() -> None:
        for process, log in workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            log.close()
        _clear_broker()

    request.addfinalizer(stop)
    return start


def _clear_broker() -> None:
    """Nothing left over from an earlier test on this broker database: neither queued messages
    nor those a killed worker took and never acknowledged."""
    celery_app.control.purge()
    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index")


def wait_for(condition, read_log, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {seconds}s; worker log:\n{read_log()}")


def sms_lines(tmp_path) -> list[dict]:
    path = tmp_path / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def due_reminder(*, patient, counselor) -> Reminder:
    """An appointment in three hours (inside the lead), for a patient who takes SMS."""
    patient_update(
        patient=patient,
        actor=counselor,
        changes={"reminder_channel": "sms", "phone": "555-0100"},
        expected_version=None,
    )
    start = timezone.now() + timedelta(hours=3)
    appointment = appointment_create(
        actor=counselor,
        patient=patient,
        fields={
            "staff": counselor,
            "kind": "counseling",
            "start": start,
            "end": start + timedelta(hours=1),
        },
    )
    return Reminder.objects.get(appointment=appointment)


@pytest.mark.broker
def test_a_reminder_delivered_twice_at_once_is_sent_once(
    start_worker, tmp_path, counselor, patient
):
    reminder = due_reminder(patient=patient, counselor=counselor)
    # Two threads take the two copies at the same moment; the provider is slow (1 s).
    _, read_log = start_worker(pool="threads", concurrency=2, CASELOAD_TEST_SMS_DELAY="1")
    copies = [celery_app.send_task(SEND, args=[str(reminder.pk)]).id for _ in range(2)]
    wait_for(
        lambda: all(f"{SEND}[{task_id}] succeeded" in read_log() for task_id in copies),
        read_log,
        "both copies did not finish",
    )
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sent", 1)
    assert [line["key"] for line in sms_lines(tmp_path)] == [reminder.idempotency_key]


@pytest.mark.broker
def test_a_worker_killed_mid_send_leaves_the_reminder_to_be_sent_once(
    start_worker, tmp_path, counselor, patient
):
    reminder = due_reminder(patient=patient, counselor=counselor)
    worker, read_log = start_worker(CASELOAD_TEST_SMS_DELAY="30")
    celery_app.send_task(SEND, args=[str(reminder.pk)])
    started = tmp_path / "sms.jsonl.started"
    wait_for(started.exists, read_log, "the send did not start")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    # The dead worker's transaction rolled back: still pending, nothing sent.
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("pending", 0)
    assert sms_lines(tmp_path) == []

    # The beat scan sends the pending reminder again, and a new worker starts. The dead
    # worker's message, never acknowledged (acks_late), also comes back once the visibility
    # timeout passes: whichever runs first sends, the other finds it sent.
    assert reminders_send_due() == 1
    _, read_log = start_worker(CELERY_VISIBILITY_TIMEOUT_SECONDS="2")
    wait_for(
        lambda: Reminder.objects.filter(pk=reminder.pk, status="sent").exists(),
        read_log,
        "the reminder was not sent after the restart",
    )
    assert reminders_send_due() == 0
    reminder.refresh_from_db()
    assert reminder.attempts == 1
    assert [line["key"] for line in sms_lines(tmp_path)] == [reminder.idempotency_key]


@pytest.mark.broker
def test_a_rolled_back_booking_sends_nothing_and_a_committed_one_is_delivered(
    start_worker, supervisor, counselor, patient
):
    receiver = Receiver()
    try:
        _, secret = webhook_create(
            actor=supervisor,
            fields={
                "url": receiver.url,
                "events": ["appointment.created"],
                "client_id": webhook_client(supervisor.program).pk,
            },
        )
        receiver.secret = secret
        _, read_log = start_worker()
        start = timezone.now() + timedelta(days=2)
        fields = {"staff": counselor, "kind": "counseling", "start": start}
        with pytest.raises(RuntimeError), transaction.atomic():
            appointment_create(
                actor=counselor,
                patient=patient,
                fields=fields | {"end": start + timedelta(hours=1)},
            )
            raise RuntimeError("the booking rolls back")
        committed = appointment_create(
            actor=counselor,
            patient=patient,
            fields=fields
            | {"start": start + timedelta(hours=2), "end": start + timedelta(hours=3)},
        )
        wait_for(lambda: receiver.received, read_log, "no webhook delivered")
        time.sleep(1)  # room for a wrong second delivery to arrive
        assert [d["data"]["appointment"] for d in receiver.received] == [str(committed.pk)]
        assert OutboxEvent.objects.count() == 1
    finally:
        receiver.close()


# Redis down ----------------------------------------------------------------------------------
@pytest.fixture
def own_broker(start_worker, tmp_path) -> Iterator[PrivateRedis]:
    """This process and its workers publish to a Redis of the test's own that it may stop: the
    shared one is never stopped."""
    broker = PrivateRedis(root=tmp_path)
    broker.start()
    previous = celery_app.conf.broker_url

    def use(broker_url: str) -> None:
        celery_app.conf.broker_url = broker_url
        # Drop the cached connections so the next publish opens one to the new broker.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    use(broker.url)
    yield broker
    use(previous)
    broker.stop()


@pytest.mark.broker
def test_changes_committed_while_redis_is_down_are_all_delivered_signed(
    own_broker, start_worker, tmp_path, as_user, supervisor, counselor, patient
):
    receiver = Receiver()
    try:
        subscription, secret = webhook_create(
            actor=supervisor,
            fields={
                "url": receiver.url,
                "events": ["appointment.created", "appointment.cancelled"],
                "client_id": webhook_client(supervisor.program).pk,
            },
        )
        receiver.secret = secret
        _, read_log = start_worker(REDIS_URL=own_broker.url)

        own_broker.stop()  # the broker goes away
        api = as_user(counselor)
        booked = []
        for day in (2, 3, 4):
            start = (timezone.now() + timedelta(days=day)).replace(microsecond=0)
            response = api.post(
                "/api/v1/appointments/",
                {
                    "patient": str(patient.pk),
                    "staff": str(counselor.pk),
                    "kind": "counseling",
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                },
            )
            assert response.status_code == 201, response.json()  # the API keeps working
            booked.append(response.json()["id"])
        response = api.post(f"/api/v1/appointments/{booked[0]}/cancel/", {"reason": "Ill."})
        assert response.status_code == 200
        assert OutboxEvent.objects.filter(relayed_at__isnull=True).count() == 4
        assert receiver.received == []

        own_broker.start()  # back, empty: every task message sent before is gone
        celery_app.send_task("caseload.tasks.outbox_relay")  # what beat sends every 30 s
        wait_for(lambda: len(receiver.received) >= 4, read_log, "not every change was delivered")
        time.sleep(1)  # room for a duplicate to arrive
        assert sorted((d["event"], d["data"]["appointment"]) for d in receiver.received) == sorted(
            [("appointment.created", one) for one in booked]
            + [("appointment.cancelled", booked[0])]
        )
        assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
        assert subscription.deliveries.filter(status="succeeded").count() == 4
    finally:
        receiver.close()


@pytest.mark.broker
def test_redis_stopped_under_http_load_delays_but_loses_no_work_and_healthz_says_so(
    own_broker, start_worker, supervisor, counselor, patient
):
    """A real gunicorn keeps acknowledging bookings while the broker is down; /healthz names
    the broker meanwhile; once it is back the worker delivers every booking's webhook once."""
    receiver = Receiver()
    try:
        _, secret = webhook_create(
            actor=supervisor,
            fields={
                "url": receiver.url,
                "events": ["appointment.created"],
                "client_id": webhook_client(supervisor.program).pk,
            },
        )
        receiver.secret = secret
        _, read_log = start_worker(REDIS_URL=own_broker.url)
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url_for_worker(),
            "REDIS_URL": own_broker.url,
        }
        first = timezone.now().replace(microsecond=0) + timedelta(days=2)
        slots = itertools.count()

        def booking(writer: int, number: int) -> dict:
            start = first + timedelta(hours=next(slots))
            return {
                "patient": str(patient.pk),
                "staff": str(counselor.pk),
                "kind": "counseling",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
            }

        with (
            serving(env, token=token_issue(staff=counselor)[1], workers=2) as server,
            writers(server, "/api/v1/appointments/", booking, count=2) as writes,
        ):
            wait_until(lambda: len(writes.acknowledged()) >= 3, "no bookings before the outage")
            own_broker.stop()
            stopped = time.monotonic()
            health_down = server.call("GET", "/healthz")
            time.sleep(1.5)
            during = writes.sent(since=stopped)
            own_broker.start()
            time_to_recover = wait_until(
                lambda: server.call("GET", "/healthz").status == 200, "/healthz did not recover"
            )
            time.sleep(0.5)

        booked = writes.acknowledged()
        celery_app.send_task("caseload.tasks.outbox_relay")
        # What beat sends: relay the outbox, and send every delivery whose task was lost (a
        # relay that ran while the broker was down could not send its deliveries).
        celery_app.send_task("caseload.tasks.webhooks_deliver_due")
        wait_for(
            lambda: len(receiver.received) >= len(booked), read_log, "not every booking delivered"
        )
        time.sleep(1)  # room for a duplicate to arrive
        print(
            f"\nbookings acknowledged={len(booked)} during_outage={len(during)} "
            f"slowest_during_outage={max(r.seconds for r in during):.2f}s "
            f"healthz_recovered_in={time_to_recover:.2f}s delivered={len(receiver.received)}"
        )
        assert writes.failures == []
        assert {reply.status for _, reply in writes.replies} == {201}
        assert during  # bookings were acknowledged while the broker was down
        assert max(reply.seconds for reply in during) < 5  # none waits for the broker
        assert health_down.status == 503
        assert health_down.body["database"] == "ok"
        assert health_down.body["broker"].startswith("error")
        assert sorted(d["data"]["appointment"] for d in receiver.received) == sorted(booked)
        assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    finally:
        receiver.close()
