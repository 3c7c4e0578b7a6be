"""Signing in to the console: password through the API's lockout, then a TOTP second factor,
enrolled on first sign-in; sessions end after the idle limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseload.models import AuditAction, AuditEvent
from tests.factories import PERSONA_PASSWORD

from .conftest import console_for, current_code, device_for

LOGIN = "/console/login/"


def password_step(client: Client, staff, password: str = PERSONA_PASSWORD):
    return client.post(LOGIN, {"username": staff.username, "password": password})


def test_a_counselor_signs_in_with_password_then_a_code(counselor):
    device = device_for(counselor)
    client = Client()

    response = password_step(client, counselor)
    assert response.status_code == 302 and response["Location"] == "/console/login/verify/"
    assert client.get("/console/").status_code == 302  # not signed in yet

    response = client.post("/console/login/verify/", {"token": current_code(device)})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    assert AuditEvent.objects.filter(actor=counselor, action=AuditAction.LOGIN).exists()


def test_a_wrong_code_is_refused_and_audited(counselor):
    device = device_for(counselor)
    client = Client()
    password_step(client, counselor)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    response = client.post("/console/login/verify/", {"token": wrong})

    assert response.status_code == 400
    assert b"invalid_token" in response.content
    assert client.get("/console/").status_code == 302
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, detail__reason="invalid_second_factor"
    ).exists()


def test_first_sign_in_enrols_a_device_with_a_qr_code_and_the_secret_as_text(counselor):
    client = Client()

    response = password_step(client, counselor)
    assert response["Location"] == "/console/login/enrol/"
    page = client.get("/console/login/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b'id="totp-secret"' in page.content

    device = TOTPDevice.objects.get(user=counselor)
    assert not device.confirmed
    response = client.post("/console/login/enrol/", {"token": current_code(device)})

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/console/").status_code == 200


def test_a_wrong_password_names_the_stable_code_and_five_lock_the_username(counselor):
    client = Client()
    response = password_step(client, counselor, "wrong-password")
    assert response.status_code == 400 and b"invalid_credentials" in response.content
    for _ in range(4):
        password_step(client, counselor, "wrong-password")

    locked = password_step(client, counselor)  # the right password, still locked

    assert locked.status_code == 429
    assert b"locked_out" in locked.content
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT).exists()


def test_a_session_without_the_second_factor_reaches_no_page(counselor, patient):
    client = Client()
    client.force_login(counselor)  # a password-only session (the API's login page)

    response = client.get(f"/console/patients/{patient.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_the_console_signs_out_after_fifteen_idle_minutes(counselor, monkeypatch):
    client = console_for(counselor)
    assert client.get("/console/caseload/").status_code == 200
    later = timezone.now() + timedelta(minutes=15, seconds=5)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)

    assert client.get("/console/caseload/").status_code == 302


def test_every_page_carries_the_idle_limit_for_the_warning(counselor):
    page = console_for(counselor).get("/console/")

    assert b'data-idle-seconds="900"' in page.content
    assert b'id="idle-warning"' in page.content


def test_a_password_step_left_waiting_expires(counselor, monkeypatch):
    device = device_for(counselor)
    client = Client()
    password_step(client, counselor)
    later = timezone.now() + timedelta(minutes=6)
    monkeypatch.setattr("console.views.signin.timezone.now", lambda: later)

    response = client.post("/console/login/verify/", {"token": current_code(device)})

    assert response.status_code == 302 and response["Location"] == LOGIN


def test_signing_out_ends_the_session(counselor):
    client = console_for(counselor)

    response = client.post("/console/logout/")

    assert response.status_code == 302
    assert client.get("/console/").status_code == 302


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "/api/v1/patients/"])
def test_after_sign_in_only_console_pages_are_followed(counselor, target):
    device = device_for(counselor)
    client = Client()
    client.post(
        f"{LOGIN}?next={target}", {"username": counselor.username, "password": PERSONA_PASSWORD}
    )

    response = client.post("/console/login/verify/", {"token": current_code(device)})

    assert response["Location"] == "/console/"
