"""docker-compose.yml and the Dockerfile point at real parts of the project.

There is no Docker engine in CI, so these check the files against the code instead of running them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import runpy
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from django.conf import settings
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
# The settings modules a production container loads: production.py and the base it imports.
PRODUCTION_SETTINGS = (ROOT / "config/settings/production.py", ROOT / "config/settings/base.py")
# Read by Django itself (manage.py, wsgi, celery), not by a settings module.
READ_BY_DJANGO = {"DJANGO_SETTINGS_MODULE"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def argv(service: dict) -> list[str]:
    """The service's command as words; `sh -c "a && b"` becomes the words of a and b."""
    command = service["command"]
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:2] == ["sh", "-c"]:
        return shlex.split(words[2])
    return words


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def celery_app(service: dict) -> Celery:
    words = argv(service)
    assert words[0] == "celery"
    app = importlib.import_module(option(words, "-A")).app
    assert isinstance(app, Celery)
    return app


def test_it_defines_postgres_redis_web_worker_and_beat(services):
    assert set(services) == {"postgres", "pgbouncer", "redis", *APP_SERVICES}


def test_app_services_are_built_from_the_dockerfile(services):
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name


def test_web_serves_the_projects_wsgi_application_with_gunicorn(services):
    words = argv(services["web"])
    gunicorn = words[words.index("gunicorn") + 1 :]
    module_name, attribute = gunicorn[0].split(":")
    assert option(gunicorn, "--bind") == "0.0.0.0:8000"
    # config.wsgi defaults to production settings; importing it here must reuse the test ones.
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "config.settings.test"

    application = getattr(importlib.import_module(module_name), attribute)

    assert callable(application)


def test_web_and_the_image_run_gunicorn_with_the_projects_config_file(services):
    """Workers and the request timeout come from config/gunicorn.py (docs/operations.md)."""
    words = argv(services["web"])
    image = json.loads(re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text(), re.M)[1])

    for command in (words[words.index("gunicorn") :], image):
        path = ROOT / option(command, "--config")
        assert path == ROOT / "config/gunicorn.py"
        namespace = runpy.run_path(str(path))
        assert namespace["timeout"] > 0
        assert namespace["workers"] >= 1


def test_web_migrates_and_collects_static_files_before_gunicorn_starts(services):
    script = " ".join(argv(services["web"]))
    steps = [step.strip() for step in script.split("&&")]

    assert steps[0] == "python manage.py migrate --noinput"
    assert steps[1] == "python manage.py collectstatic --noinput"
    assert re.match(r"(exec )?gunicorn ", steps[2])


def test_worker_runs_a_celery_worker_of_the_projects_app(services):
    app = celery_app(services["worker"])

    assert "worker" in argv(services["worker"])
    assert app.main == "caseload"


def test_beat_runs_celery_beat_of_the_projects_app(services):
    app = celery_app(services["beat"])

    assert "beat" in argv(services["beat"])
    assert app.main == "caseload"


def test_every_scheduled_task_is_registered_in_the_app_beat_runs(services):
    app = celery_app(services["beat"])
    importlib.import_module("caseload.tasks")
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled
    assert scheduled - set(app.tasks) == set()


def test_app_services_share_one_environment(services):
    web = services["web"]["environment"]

    for name in APP_SERVICES:
        assert services[name]["environment"] == web, name


def test_every_app_environment_variable_is_read_by_the_production_settings(services):
    source = "\n".join(path.read_text() for path in PRODUCTION_SETTINGS)
    names = set(services["web"]["environment"]) - READ_BY_DJANGO

    unread = {name for name in names if f'"{name}"' not in source}

    assert unread == set()


def test_app_services_run_the_production_settings(services):
    environment = services["web"]["environment"]

    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert importlib.util.find_spec(environment["DJANGO_SETTINGS_MODULE"]) is not None


def test_the_secret_key_has_no_default(services):
    assert re.fullmatch(
        r"\$\{DJANGO_SECRET_KEY:\?[^}]*\}", services["web"]["environment"]["DJANGO_SECRET_KEY"]
    )


def test_the_database_url_reaches_the_postgres_service_through_pgbouncer(services):
    url = urlsplit(services["web"]["environment"]["DATABASE_URL"])
    bouncer = services["pgbouncer"]["environment"]
    upstream = urlsplit(bouncer["DATABASE_URL"])
    postgres = services["postgres"]["environment"]

    assert url.scheme in {"postgres", "postgresql"}
    assert (url.hostname, url.port) == ("pgbouncer", int(bouncer["LISTEN_PORT"]))
    assert upstream.hostname == "postgres"
    for each in (url, upstream):
        assert each.username == postgres["POSTGRES_USER"]
        assert each.password == postgres["POSTGRES_PASSWORD"]
        assert each.path.lstrip("/") == postgres["POSTGRES_DB"]


def test_pgbouncer_pools_by_transaction_and_the_app_knows_it(services, compose):
    environment = services["web"]["environment"]

    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert environment["CASELOAD_TRANSACTION_POOLING"] == "true"
    # The statement timeout the app cannot send through the pooler is the role's.
    timeout = compose["configs"]["statement-timeout"]["content"]
    assert re.search(r"ALTER ROLE caseload SET statement_timeout", timeout)


def test_the_broker_is_the_redis_service(services):
    url = urlsplit(services["web"]["environment"]["REDIS_URL"])

    assert (url.scheme, url.hostname) == ("redis", "redis")


def test_ssl_redirect_is_off_by_default_for_local_compose(services):
    value = services["web"]["environment"]["DJANGO_SECURE_SSL_REDIRECT"]

    assert value == "${DJANGO_SECURE_SSL_REDIRECT:-false}"


@pytest.mark.parametrize("name", ["postgres", "pgbouncer", "redis", "web"])
def test_it_health_checks(services, name):
    test = services[name]["healthcheck"]["test"]

    assert test[0] in {"CMD", "CMD-SHELL"}
    assert len(test) > 1


def test_the_web_health_check_requests_the_healthz_route(services):
    check = " ".join(services["web"]["healthcheck"]["test"])
    url = re.search(r"http://127\.0\.0\.1:8000(/\S*?)['\"]", check)

    assert "urllib" in check
    assert url is not None
    assert resolve(url.group(1)).url_name == "healthz"


def test_the_web_health_check_host_is_always_allowed(services):
    allowed = services["web"]["environment"]["DJANGO_ALLOWED_HOSTS"]

    assert allowed.endswith(",127.0.0.1")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_a_healthy_database_and_broker(services, name):
    depends_on = services[name]["depends_on"]

    for dependency in ("postgres", "pgbouncer", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy", dependency


def test_the_dockerfile_installs_the_project_as_a_non_root_user():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]

    assert any(re.match(r"FROM python:3\.11", line) for line in lines)
    assert "RUN pip install ." in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}


def test_the_dockerfile_copies_every_package_the_project_installs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in patterns}

    for package in [*packages, "manage.py", "pyproject.toml"]:
        assert re.search(rf"^COPY .*\b{re.escape(package)}\b", dockerfile, re.M), package
