"""A sync walk's page written straight from column tuples (api/v1/base.py, `row_keys`) is
byte for byte the page the serializer writes, for an integration client and for staff.

Each page is fetched twice through HTTP: the fast way, and with `json_columns` answering that
no field qualifies, which sends the same page through `AppointmentSerializer` and DRF's
renderer as before. Cursor links are made deterministic for the comparison (they are otherwise
sealed with a fresh nonce each time).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from django.utils import timezone as dj_timezone

from api.v1 import base as base_views
from caseload.models import Appointment
from caseload.services.appointments import appointment_transition
from tests.api.v1.test_sync_feed import EPOCH, FEED, settle
from tests.conftest import integration_for
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Text a serializer and orjson could write differently if either escaped it its own way.
LOCATIONS = [
    "",
    "Room 1",
    "Salle d'attente n° 2 — étage «B»",
    'Quote " and backslash \\ and slash /',
    "Line\nbreak\ttab",
    "Separators \u2028 and \u2029 inside",
    "Emoji 🩺 and CJK 診療室",
]
PLUS_0530 = timezone(timedelta(hours=5, minutes=30))


_ISSUED: dict[str, tuple[str, dict]] = {}


def _fake_issue(data, *, scope: str) -> str:
    """A readable token of the link's data but its horizon, and where a `sync` link starts
    (on PostgreSQL the two walks take their horizons at different moments); the data itself is
    kept for `_fake_read`."""
    moving = ("h", "s") if scope.startswith("feed:sync:") else ("h",)
    shown = {key: value for key, value in data.items() if key not in moving}
    token = base64.urlsafe_b64encode(json.dumps([scope, shown], sort_keys=True).encode())
    _ISSUED[token.decode()] = (scope, data)
    return token.decode()


def _fake_read(token, *, scope: str, parameter: str, max_age=None):
    issued_scope, data = _ISSUED[token]
    assert issued_scope == scope
    return data


@pytest.fixture
def plain_links(monkeypatch):
    monkeypatch.setattr("api.feed.issue_cursor", _fake_issue)
    monkeypatch.setattr("api.feed.read_cursor", _fake_read)


def _varied_appointments(supervisor, counselor, patient) -> None:
    """Every kind and status an appointment can have, null and set reminder times, offsets
    other than UTC on the way in, whole seconds and microseconds, and awkward text."""
    second = PatientFactory(actor=supervisor, given_name="Nadia", family_name="Żółć")
    now = dj_timezone.now().replace(microsecond=0)
    kinds = ["intake", "counseling", "group", "medication", "drug_screen", "follow_up"]
    booked = []
    for n, location in enumerate(LOCATIONS * 2):
        start = now + timedelta(days=3, hours=2 * n, microseconds=123456 * (n % 2))
        if n % 3 == 0:
            start = start.astimezone(PLUS_0530)
        fields = {"kind": kinds[n % len(kinds)], "location": location, "start": start}
        fields["end"] = start + timedelta(minutes=45)
        booked.append(
            AppointmentFactory(
                actor=supervisor, patient=second if n % 2 else patient, staff=counselor, **fields
            )
        )
    past = now - timedelta(days=1)
    missed = AppointmentFactory(
        actor=supervisor,
        patient=patient,
        staff=counselor,
        start=past,
        end=past + timedelta(minutes=30),
        booked_at=past - timedelta(days=2),
    )
    appointment_transition(appointment=missed, actor=supervisor, to="noshow")
    appointment_transition(
        appointment=booked[0], actor=supervisor, to="cancelled", reason="Patient ill — « grippe »"
    )
    appointment_transition(appointment=booked[1], actor=supervisor, to="arrived")
    moved = appointment_transition(appointment=booked[2], actor=supervisor, to="arrived")
    appointment_transition(appointment=moved, actor=supervisor, to="fulfilled")
    # A row booked before reminders existed holds no reminder time (a null column).
    Appointment.objects.filter(pk=booked[3].pk).update(reminder_due_at=None)


def _pages(api, monkeypatch, *, fast: bool) -> list[bytes]:
    """Every page of a walk from the epoch in pages of 4, as the bytes sent."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(base_views, "json_columns", lambda serializer: ((), ()))
        bodies = []
        response = api.get(FEED, {"updated_since": EPOCH, "page_size": 4})
        while True:
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "application/json"
            bodies.append(response.content)
            link = json.loads(response.content)["next"]
            if link is None:
                return bodies
            parts = urlsplit(link)
            response = api.get(f"{parts.path}?{parts.query}")


@pytest.mark.parametrize("who", ["integration", "supervisor"])
def test_a_walk_written_from_rows_is_the_serializers_bytes(
    who, program, supervisor, counselor, patient, as_user, plain_links, monkeypatch
):
    _varied_appointments(supervisor, counselor, patient)
    settle()
    api = integration_for(program) if who == "integration" else as_user(supervisor)
    fast = _pages(api, monkeypatch, fast=True)
    slow = _pages(api, monkeypatch, fast=False)
    assert len(fast) == 4  # 15 appointments in pages of 4
    assert fast == slow
    rows = [row for body in fast for row in json.loads(body)["results"]]
    statuses = {"booked", "cancelled", "arrived", "fulfilled", "noshow"}
    assert {row["status"] for row in rows} == statuses
    assert {row["location"] for row in rows} == set(LOCATIONS)
    assert b"\\u2028" in b"".join(fast) and "\u2028".encode() not in b"".join(fast)
    if who == "supervisor":
        assert {row["reminder_due_at"] is None for row in rows} == {True, False}
        assert any(row["cancellation_reason"] for row in rows)


def test_a_page_asked_for_indented_is_written_drfs_way(
    program, supervisor, counselor, patient, as_user, monkeypatch
):
    _varied_appointments(supervisor, counselor, patient)
    settle()
    api = as_user(supervisor)
    query = {"updated_since": EPOCH, "page_size": 100}
    indented = api.get(FEED, query, HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200
    assert indented.content.startswith(b'{\n  "next": null')
    compact = api.get(FEED, query)
    assert json.loads(indented.content)["results"] == json.loads(compact.content)["results"]


def test_utc_offsets_are_written_as_drf_writes_them(supervisor, counselor, patient, as_user):
    start = datetime(2031, 5, 6, 7, 8, 9, 5, tzinfo=PLUS_0530)
    AppointmentFactory(
        actor=supervisor,
        patient=patient,
        staff=counselor,
        start=start,
        end=start + timedelta(hours=1),
    )
    settle()
    body = as_user(supervisor).get(FEED, {"updated_since": EPOCH}).json()
    (row,) = body["results"]
    assert row["start"] == start.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    assert row["start"] == "2031-05-06T01:38:09.000005Z"
