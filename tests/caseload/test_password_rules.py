"""Django's password validators run on every path that sets a staff member's password."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from caseload.errors import InvalidInput
from caseload.management.commands import seed_demo
from caseload.models import Program, Staff
from caseload.services.programs import staff_create


def create_staff_with_password(monkeypatch, password: str) -> None:
    monkeypatch.setenv("NEW_STAFF_PASSWORD", password)
    call_command(
        "create_staff",
        "weak.pw",
        "--program",
        "riverside",
        "--role",
        "counselor",
        "--password-from-env",
        "NEW_STAFF_PASSWORD",
    )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("a", "too short"),
        ("password1234", "too common"),
        ("493820174463", "entirely numeric"),
        ("weak.pw.weak", "too similar to the username"),
        ("aaaaaaaaaaaa", "too few different characters"),
        ("abababababab", "too few different characters"),
        ("horse-battery!!!!!", "repeats a character"),
        ("qwertyuiopas", "keyboard or alphabet sequence"),
        ("abcdefgh1234", "keyboard or alphabet sequence"),
        ("iloveyou1234", "common password with a few characters added"),
        ("P@ssw0rd2024!", "common password with a few characters added"),
        ("!!monkey2025", "common password with a few characters added"),
    ],
)
def test_create_staff_refuses_a_password_the_validators_reject(
    program, monkeypatch, password, reason
):
    with pytest.raises(CommandError, match=f"^password: .*{reason}"):
        create_staff_with_password(monkeypatch, password)
    assert not Staff.objects.filter(username="weak.pw").exists()


def test_create_staff_accepts_a_password_the_validators_pass(program, monkeypatch):
    create_staff_with_password(monkeypatch, "correct-horse-battery-1")
    assert Staff.objects.get(username="weak.pw").check_password("correct-horse-battery-1")


def test_the_service_names_the_password_field(program):
    with pytest.raises(InvalidInput) as caught:
        staff_create(username="weak.pw", program=program, role="counselor", password="a")
    assert caught.value.field == "password"
    assert "at least 12 characters" in caught.value.message


@pytest.mark.django_db
def test_seed_demo_refuses_a_weak_demo_password_and_loads_nothing(monkeypatch):
    monkeypatch.setenv("CASELOAD_DEMO_PASSWORD", "demo")
    with pytest.raises(CommandError, match=r"^password: "):
        call_command("seed_demo")
    assert not Program.objects.filter(code=seed_demo.PROGRAM[0]).exists()
    assert not Staff.objects.exists()


@pytest.mark.django_db
def test_seed_demo_default_password_passes_the_validators(monkeypatch):
    monkeypatch.delenv("CASELOAD_DEMO_PASSWORD", raising=False)
    call_command("seed_demo", stdout=StringIO())
    assert Staff.objects.filter(username__startswith="demo.").count() == len(seed_demo.STAFF)
    assert all(staff.has_usable_password() for staff in Staff.objects.all())


@pytest.mark.django_db
def test_createsuperuser_refuses_a_weak_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a")
    with pytest.raises(CommandError, match="too short"):
        call_command("createsuperuser", "--noinput", "--username", "root", "--email", "")
    assert not Staff.objects.filter(username="root").exists()


@pytest.mark.django_db
def test_createsuperuser_accepts_a_password_the_validators_pass(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct-horse-battery-1")
    call_command(
        "createsuperuser", "--noinput", "--username", "root", "--email", "", stdout=StringIO()
    )
    assert Staff.objects.get(username="root").check_password("correct-horse-battery-1")
