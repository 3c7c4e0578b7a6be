"""Console personas: a Django test client signed in with password and second factor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import AppointmentFactory


def device_for(staff) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=staff, name="test", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def console_for(staff) -> Client:
    """A browser session of `staff` that passed both factors (django-otp's session key)."""
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device_for(staff).persistent_id
    session.save()
    return client


@pytest.fixture
def console():
    return console_for


def today_at(hour: int, minute: int = 0):
    """A moment of today (local time), whatever the time now: Today's page shows it."""
    return timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)


def booked_today(*, actor, patient, staff, hour: int = 12, minute: int = 0, **fields):
    """An appointment on today's page, booked the day before (it may start in the past)."""
    start = today_at(hour, minute)
    return AppointmentFactory(
        actor=actor,
        patient=patient,
        staff=staff,
        start=start,
        booked_at=start - timedelta(days=1),
        **fields,
    )
