"""HIPAA automatic logoff: a browser session ends after 15 idle minutes; activity extends it."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from caseload.services.programs import staff_create

ME = "/api/v1/me/"
PASSWORD = "a-long-passphrase-1"


def signed_in(program) -> Client:
    staff_create(username="idle.user", program=program, role="counselor", password=PASSWORD)
    client = Client()
    response = client.post("/api/auth/login/", {"username": "idle.user", "password": PASSWORD})
    assert response.status_code == 302
    return client


def at(monkeypatch, moment) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: moment)


def test_a_session_idle_for_fifteen_minutes_is_signed_out(program, monkeypatch):
    client = signed_in(program)
    at(monkeypatch, timezone.now() + timedelta(minutes=15, seconds=5))
    assert client.get(ME).status_code == 401


def test_activity_keeps_the_session_alive(program, monkeypatch):
    client = signed_in(program)
    start = timezone.now()
    for minutes in (10, 20, 30):
        at(monkeypatch, start + timedelta(minutes=minutes))
        assert client.get(ME).status_code == 200, minutes
