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


def plan_fields(responsible, **changes) -> dict:
    """A complete plan's content, as the services take it (docs/treatment-records.md)."""
    target = (timezone.localdate() + timedelta(days=30)).isoformat()
    return {
        "problems": [{"description": "Daily opioid use; withdrawal when stopping."}],
        "goals": [
            {
                "description": "I want to stop using and keep my job.",
                "objectives": [
                    {"description": "Attend every dosing visit for 30 days.",
                     "target_date": target, "status": "open"}
                ],
            }
        ],
        "interventions": [
            {"kind": "Individual counseling", "frequency": "weekly",
             "responsible": str(responsible.pk)}
        ],
        "signed_by_patient_at": timezone.now() - timedelta(hours=1),
        **changes,
    }  # fmt: skip


def placement_fields(**changes) -> dict:
    """A placement's ratings and levels, as `placement_record` takes them."""
    ratings = {f"dimension_{n}": rating for n, rating in enumerate((2, 0, 1, 2, 3, 2), start=1)}
    return {
        "assessed_at": timezone.now() - timedelta(hours=2),
        **ratings,
        "recommended_level": "2.1",
        "actual_level": "1",
        "reason_for_difference": "Patient preference: works full days.",
        **changes,
    }
