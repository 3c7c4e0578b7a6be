"""A production process refuses to start rather than serve 500s, and serves once set up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "x4k2cN1mQm0sVw9t3Yb7Jq8ZpLr5Ue6Hd0aGfTiWkOc="
SERVE_DOCS = """
import io, sys
from config.wsgi import application
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": "/api/docs/", "QUERY_STRING": "",
    "SERVER_NAME": "caseload.example.org", "SERVER_PORT": "443",
    "HTTP_HOST": "caseload.example.org",
    "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(),
    "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1",
}
statuses = []
body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
print(statuses[0])
"""


def production_env(static_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 64,
        "CASELOAD_SECRET_KEYS": FERNET_KEY,
        "CASELOAD_AUDIT_KEY": "a" * 48,
        "DJANGO_ALLOWED_HOSTS": "caseload.example.org",
        "DJANGO_STATIC_ROOT": str(static_root),
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_production_refuses_to_start_before_collectstatic(tmp_path):
    env = production_env(tmp_path / "static")
    started = run(["-c", "import config.wsgi"], env)
    assert started.returncode != 0
    assert "caseload.E001" in started.stderr
    check = run(["manage.py", "check", "--deploy"], env)
    assert check.returncode != 0
    assert "caseload.E001" in check.stderr


def test_after_collectstatic_production_serves_the_api_docs(tmp_path):
    env = production_env(tmp_path / "static")
    collected = run(["manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    assert collected.returncode == 0, collected.stderr
    served = run(["-c", SERVE_DOCS], env)
    assert served.returncode == 0, served.stderr
    assert served.stdout.strip() == "200 OK"


def test_production_refuses_a_console_without_the_second_factor(tmp_path):
    env = production_env(tmp_path / "static") | {"CASELOAD_CONSOLE_MFA": "off"}
    started = run(["-c", "import django; django.setup()"], env)
    assert started.returncode != 0
    assert "CASELOAD_CONSOLE_MFA must be 'required' in production" in started.stderr

    allowed = run(
        ["-c", "import django; django.setup()"], env | {"CASELOAD_CONSOLE_MFA_OFF_ALLOWED": "1"}
    )
    assert allowed.returncode == 0, allowed.stderr[-2000:]
