"""Appointment reminders: planned by a Celery task after booking, queued when due.

By default Celery runs eagerly in-process. With REDIS_URL set the broker variant starts a real
worker process against the same (PostgreSQL) test database and waits for it to do the work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from caseload.models import Appointment, AuditEvent
from caseload.services.appointments import appointment_transition
from caseload.tasks import appointment_plan_reminder_task, appointments_queue_due_reminders
from config.celery import app as celery_app
from tests.factories import AppointmentFactory

ROOT = Path(__file__).resolve().parents[2]
WORKER_WAIT_SECONDS = 30


def book_counseling(api, *, patient, staff) -> Appointment:
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    response = api.post(
        "/api/v1/appointments/",
        {
            "patient": str(patient.pk),
            "staff": str(staff.pk),
            "kind": "counseling",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=50)).isoformat(),
            "location": "Room 3",
        },
    )
    assert response.status_code == 201, response.json()
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert appointment.start == start
    return appointment


def assert_reminder_planned(appointment: Appointment) -> None:
    appointment.refresh_from_db()
    expected = appointment.start - settings.CASELOAD_REMINDER_LEAD
    assert appointment.reminder_due_at == expected
    assert appointment.reminder_queued_at is None
    event = AuditEvent.objects.get(detail__reminder_planned=True, resource_id=str(appointment.pk))
    assert (event.action, event.actor) == ("update", None)
    assert event.patient_id == appointment.patient_id
    assert event.detail == {"reminder_planned": True, "due_at": expected.isoformat()}


@pytest.fixture
def eager_celery():
    """Run tasks in-process for this test, whatever the configured mode."""
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = was_eager


@pytest.mark.django_db(transaction=True)
def test_booking_an_appointment_plans_its_reminder_in_process(
    eager_celery, as_user, counselor, patient
):
    appointment = book_counseling(as_user(counselor), patient=patient, staff=counselor)
    assert_reminder_planned(appointment)


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
def celery_worker(request, transactional_db):
    """A real `celery worker` process on the configured broker and the test database."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        if os.environ.get("CI") or os.environ.get("CASELOAD_REQUIRE_BROKER"):
            pytest.fail("This test needs a broker and CI must run it with one (set REDIS_URL).")
        pytest.skip("needs a real broker (set REDIS_URL and DATABASE_URL to PostgreSQL)")
    env = os.environ | {
        "DATABASE_URL": _database_url_for_worker(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # Close connections at once so the test database can be flushed and dropped.
        "DATABASE_CONN_MAX_AGE": "0",
    }
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the finalizer
        mode="w+", prefix="celery-worker-", suffix=".log"
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery",
            "worker",
            "--pool=solo",
            "--concurrency=1",
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

    def stop() -> None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        log.close()

    request.addfinalizer(stop)

    def read_log() -> str:
        log.flush()
        log.seek(0)
        return log.read()[-4000:]

    return worker, read_log


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_booking_an_appointment_plans_its_reminder_on_a_real_worker(
    celery_worker, as_user, counselor, patient
):
    worker, read_log = celery_worker
    appointment = book_counseling(as_user(counselor), patient=patient, staff=counselor)

    deadline = time.monotonic() + WORKER_WAIT_SECONDS
    while time.monotonic() < deadline:
        if Appointment.objects.filter(pk=appointment.pk, reminder_due_at__isnull=False).exists():
            break
        assert worker.poll() is None, f"the worker exited early:\n{read_log()}"
        time.sleep(0.25)
    else:
        pytest.fail(f"no reminder planned within {WORKER_WAIT_SECONDS}s; worker log:\n{read_log()}")
    # The audit row is written in the same transaction as the reminder time.
    assert_reminder_planned(appointment)


def _planned(*, patient, staff, actor, starts_in: timedelta) -> Appointment:
    start = timezone.now() + starts_in
    appointment = AppointmentFactory(
        actor=actor, patient=patient, staff=staff, start=start, end=start + timedelta(hours=1)
    )
    appointment_plan_reminder_task.apply(args=[str(appointment.pk)])
    appointment.refresh_from_db()
    assert appointment.reminder_due_at is not None
    return appointment


def test_due_reminders_are_queued_exactly_once(counselor, patient):
    due = _planned(patient=patient, staff=counselor, actor=counselor, starts_in=timedelta(hours=2))
    later = _planned(patient=patient, staff=counselor, actor=counselor, starts_in=timedelta(days=3))
    cancelled = _planned(
        patient=patient, staff=counselor, actor=counselor, starts_in=timedelta(hours=3)
    )
    appointment_transition(
        appointment=cancelled, actor=counselor, to="cancelled", reason="Patient asked to."
    )

    assert appointments_queue_due_reminders.apply().get() == 1
    due.refresh_from_db()
    queued_at = due.reminder_queued_at
    assert queued_at is not None
    assert Appointment.objects.get(pk=later.pk).reminder_queued_at is None
    assert Appointment.objects.get(pk=cancelled.pk).reminder_queued_at is None

    assert appointments_queue_due_reminders.apply().get() == 0
    due.refresh_from_db()
    assert due.reminder_queued_at == queued_at


def test_planning_a_reminder_twice_writes_one_audit_row(counselor, patient):
    appointment = _planned(
        patient=patient, staff=counselor, actor=counselor, starts_in=timedelta(days=2)
    )
    appointment_plan_reminder_task.apply(args=[str(appointment.pk)])
    assert (
        AuditEvent.objects.filter(
            detail__reminder_planned=True, resource_id=str(appointment.pk)
        ).count()
        == 1
    )
