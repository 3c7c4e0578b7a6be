"""Settings come from the environment; production refuses to start without its required values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "from django.conf import settings; import django; django.setup(); "
    "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
    "settings.CELERY_BROKER_URL)"
)


def run_settings(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CASELOAD_SECRET_KEYS", "CASELOAD_AUDIT_KEY")
        )
    }
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-c", PROBE],
        env=clean | {"DJANGO_SETTINGS_MODULE": module} | env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_with_nothing_set_it_uses_sqlite_and_eager_celery():
    result = run_settings("config.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "memory://"]


def test_database_and_broker_urls_switch_to_postgresql_and_redis():
    result = run_settings(
        "config.settings.local",
        DATABASE_URL="postgres://u@db.example:5432/caseload",
        REDIS_URL="redis://broker.example:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "redis://broker.example:6379/0",
    ]


# What production needs, in the order it checks them.
PRODUCTION_REQUIRED = {
    "DJANGO_SECRET_KEY": "k" * 60,
    "DJANGO_ALLOWED_HOSTS": "x.example.org",
    "CASELOAD_SECRET_KEYS": "x4k2cN1mQm0sVw9t3Yb7Jq8ZpLr5Ue6Hd0aGfTiWkOc=",
    "CASELOAD_AUDIT_KEY": "a" * 48,
}


@pytest.mark.parametrize("missing", list(PRODUCTION_REQUIRED))
def test_production_refuses_to_start_without_each_required_value(missing):
    given = {k: v for k, v in PRODUCTION_REQUIRED.items() if k != missing}
    result = run_settings("config.settings.production", **given)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_production_refuses_a_short_audit_key():
    given = PRODUCTION_REQUIRED | {"CASELOAD_AUDIT_KEY": "short"}
    result = run_settings("config.settings.production", **given)
    assert result.returncode != 0
    assert "CASELOAD_AUDIT_KEY must be at least 32 characters" in result.stderr


def test_production_starts_with_its_required_values():
    result = run_settings("config.settings.production", **PRODUCTION_REQUIRED)
    assert result.returncode == 0, result.stderr


def test_argon2_is_the_first_password_hasher():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize("backend", ["console", "filebased"])
def test_production_refuses_an_email_backend_that_writes_messages_out(backend):
    dotted = f"django.core.mail.backends.{backend}.EmailBackend"
    result = run_settings("config.settings.production", **PRODUCTION_REQUIRED, EMAIL_BACKEND=dotted)
    assert result.returncode != 0
    assert "writes whole messages" in result.stderr
    allowed = run_settings(
        "config.settings.production",
        **PRODUCTION_REQUIRED,
        EMAIL_BACKEND=dotted,
        CASELOAD_ALLOW_UNSAFE_EMAIL_BACKEND="true",
    )
    assert allowed.returncode == 0, allowed.stderr


def test_the_default_email_backend_logs_neither_address_nor_text(caplog):
    import logging

    from django.core.mail import EmailMessage

    from caseload.mail import LogOnlyEmailBackend

    message = EmailMessage(
        "Reminder", "You have an appointment at 10:00, Room 3.", to=["avery@example.org"]
    )
    with caplog.at_level(logging.DEBUG):
        assert LogOnlyEmailBackend().send_messages([message]) == 1
    logged = caplog.text
    assert "avery@example.org" not in logged and "Room 3" not in logged and "Reminder" not in logged
    assert "email not sent" in logged
