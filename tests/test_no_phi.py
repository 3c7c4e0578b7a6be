"""No patient data where it does not belong: a canary name planted in a patient never reaches
the application's log output, an error body, a task's arguments, a broker message or a Redis
key, whatever flows and failures the API goes through."""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from caseload import queue
from caseload.models import AuditEvent, Patient
from config.logging import RedactDatabaseErrors
from tests.api.v1.test_break_glass import CRISIS_REASON
from tests.api.v1.test_permission_matrix import COWS_ITEMS, consent_body
from tests.conftest import api_for
from tests.factories import EnrollmentFactory

CANARY = "Zqxcanaryvyl"
CANARY_FAMILY = "Wfjcanarybkt"


@pytest.fixture
def log_output():
    """What the configured log handlers write, at every level, for the length of the test."""
    root = logging.getLogger()
    handlers = [
        h for h in root.handlers if any(isinstance(f, RedactDatabaseErrors) for f in h.filters)
    ]
    assert handlers, "the console handler with the redaction filter is configured"
    buffer = io.StringIO()
    previous = [(h, h.setStream(buffer)) for h in handlers]
    level = root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(level)
    for handler, stream in previous:
        handler.setStream(stream)


@pytest.fixture
def published(monkeypatch):
    """The arguments of every task sent (services send tasks by name, through caseload.queue),
    eager or to a real broker."""
    sent: list[tuple] = []
    original = queue.enqueue

    def recording(name, *args, **options):
        sent.append((name, args, {}))
        return original(name, *args, **options)

    monkeypatch.setattr(queue, "enqueue", recording)
    return sent


@pytest.fixture
def canary(as_user, supervisor, counselor, prescriber):
    response = as_user(supervisor).post(
        "/api/v1/patients/",
        {
            "mrn": "CANARY-1",
            "given_name": CANARY,
            "family_name": CANARY_FAMILY,
            "birth_date": "1980-02-03",
            "email": f"{CANARY.lower()}@example.org",
        },
    )
    assert response.status_code == 201, response.json()
    patient = Patient.objects.get(pk=response.json()["id"])
    EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselor, prescriber=prescriber)
    return patient


def run_main_flows(canary, supervisor, counselor, other_counselor, front_desk):
    """Reads, writes, background work and the refusals, each answer collected."""
    answers = []
    staff, clinician, stranger = api_for(supervisor), api_for(counselor), api_for(other_counselor)
    desk = api_for(front_desk)
    pid = str(canary.pk)
    soon = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    def keep(response):
        answers.append(response)
        return response

    # Writes and reads that succeed.
    keep(clinician.get("/api/v1/patients/"))
    keep(clinician.get(f"/api/v1/patients/{pid}/history/"))
    keep(clinician.get(f"/api/v1/patients/{pid}/withdrawal-trend/", {"format": "svg"}))
    keep(clinician.get("/api/v1/patients/", {"family_name": CANARY_FAMILY}))
    keep(
        clinician.post(
            "/api/v1/notes/",
            {"patient": pid, "body": "Check-in.", "written_at": timezone.now().isoformat()},
        )
    )
    keep(
        clinician.post(
            "/api/v1/assessments/",
            {
                "patient": pid,
                "instrument": "cows",
                "items": COWS_ITEMS,
                "administered_at": timezone.now().isoformat(),
            },
        )
    )
    booked = keep(
        clinician.post(
            "/api/v1/appointments/",
            {
                "patient": pid,
                "staff": str(counselor.pk),
                "kind": "counseling",
                "start": soon.isoformat(),
                "end": (soon + timedelta(hours=1)).isoformat(),
            },
        )
    )
    consent = keep(
        clinician.post(
            "/api/v1/consents/", consent_body(canary) | {"information": ["demographics"]}
        )
    )
    keep(clinician.post(f"/api/v1/patients/{pid}/export/", {"consent": consent.json()["id"]}))
    # Refusals of every kind.
    keep(stranger.get(f"/api/v1/patients/{pid}/"))  # 404 off the caseload
    keep(desk.get(f"/api/v1/patients/{pid}/history/"))  # 403
    keep(
        staff.post(
            "/api/v1/patients/",
            {
                "mrn": "CANARY-1",
                "given_name": CANARY,
                "family_name": CANARY_FAMILY,
                "birth_date": "1980-02-03",
            },
        )
    )  # MRN taken
    keep(staff.patch(f"/api/v1/patients/{pid}/", {"birth_date": "not a date"}))  # 400
    keep(
        staff.patch(f"/api/v1/patients/{pid}/", {"phone": "555-0100"}, HTTP_IF_MATCH='"v999"')
    )  # 412
    keep(staff.delete(f"/api/v1/patients/{pid}/"))  # 405
    keep(clinician.post(f"/api/v1/appointments/{booked.json()['id']}/fulfil/"))  # 409
    keep(stranger.post(f"/api/v1/patients/{pid}/break-glass/", CRISIS_REASON))
    keep(stranger.patch(f"/api/v1/patients/{pid}/", {"phone": "555-0111"}))  # read-only: 403
    keep(clinician.post(f"/api/v1/consents/{consent.json()['id']}/revoke/"))
    keep(
        clinician.post(f"/api/v1/patients/{pid}/export/", {"consent": consent.json()["id"]})
    )  # 409
    keep(api_for(None).get(f"/api/v1/patients/{pid}/", HTTP_AUTHORIZATION="Bearer cl_wrong"))  # 401
    return answers


def test_the_canary_never_leaves_the_patients_own_record(
    canary,
    supervisor,
    counselor,
    other_counselor,
    front_desk,
    log_output,
    published,
    django_capture_on_commit_callbacks,
    monkeypatch,
    caplog,
):
    with django_capture_on_commit_callbacks(execute=True):
        answers = run_main_flows(canary, supervisor, counselor, other_counselor, front_desk)
        crash = crash_on_the_canary_row(canary, supervisor, monkeypatch)
    statuses = {r.status_code for r in answers}
    assert {200, 201, 400, 401, 403, 404, 405, 409, 412} <= statuses
    assert crash.status_code == 500

    # The flows worked: the canary is in what a successful read returns...
    assert CANARY in answers[0].content.decode()
    # ...and in nothing else.
    errors = [r for r in [*answers, crash] if r.status_code >= 400]
    assert len(errors) >= 11
    for response in errors:
        assert CANARY not in response.content.decode(), response.content
        assert CANARY_FAMILY not in response.content.decode()
    logged = log_output.getvalue()
    assert "Internal Server Error" in logged and "withheld" in logged  # the crash was logged
    if connection.vendor == "postgresql":  # its message quoted the row: redaction was needed
        (failure,) = [r for r in caplog.records if r.exc_info and r.levelno == logging.ERROR]
        assert CANARY in str(failure.exc_info[1])
    assert CANARY not in logged and CANARY_FAMILY not in logged
    assert published, "the flows sent background tasks"
    assert CANARY not in repr(published) and CANARY_FAMILY not in repr(published)
    assert all(set(map(type, args or ())) <= {str} for _, args, _ in published)
    for key, value in redis_contents():
        assert CANARY not in key and CANARY not in value
    audit_text = " ".join(str(d) for d in AuditEvent.objects.values_list("detail", flat=True))
    assert CANARY not in audit_text and CANARY_FAMILY not in audit_text


def crash_on_the_canary_row(canary, supervisor, monkeypatch):
    """A request that fails inside the database on the canary's own row: PostgreSQL's message
    quotes the failing row, names included."""

    def failing_update(**kwargs):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE caseload_patient SET birth_date = NULL WHERE id = %s",
                [canary.pk.hex if connection.vendor == "sqlite" else canary.pk],
            )

    monkeypatch.setattr("api.v1.patients.patient_update", failing_update)
    client = api_for(supervisor)
    client.client.raise_request_exception = False
    return client.patch(f"/api/v1/patients/{canary.pk}/", {"phone": "555-0102"})


def redis_contents() -> list[tuple[str, str]]:
    """Every key of the broker's Redis database and its value, as text (none when eager)."""
    if not settings.REDIS_URL:
        return []
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    contents = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key) or b""
        elif kind == "list":
            value = b" ".join(_message_text(m) for m in client.lrange(key, 0, -1))
        elif kind == "hash":
            value = b" ".join(k + b" " + v for k, v in client.hgetall(key).items())
        elif kind in ("set", "zset"):
            value = b" ".join(client.zrange(key, 0, -1) if kind == "zset" else client.smembers(key))
        else:
            value = b""
        contents.append((key.decode(errors="replace"), value.decode(errors="replace")))
    return contents


def _message_text(raw: bytes) -> bytes:
    """A queued Celery message, with its base64 body decoded so its arguments are searchable."""
    try:
        envelope = json.loads(raw)
        return raw + b" " + base64.b64decode(envelope.get("body", ""))
    except (ValueError, TypeError, AttributeError):
        return raw
