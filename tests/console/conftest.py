"""Console personas: a Django test client signed in with password and second factor."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


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
