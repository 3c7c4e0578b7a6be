"""A private PostgreSQL cluster holding the migrated schema and the demo program, and gunicorn
servers on copies of it.

Migrating from scratch takes most of a minute, so the cluster's template is a copy of the test
database pytest-django has already migrated (pg_dump / pg_restore), with `seed_demo` loaded on
top. Each test gets its own database cloned from that template in well under a second.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.gunicorn_server import ROOT, Server, serving
from tests.private_services import PrivatePostgres, private_postgres

TEMPLATE = "faults_template"
_names = itertools.count(1)


def database_url(settings_dict: dict) -> str:
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{settings_dict['USER']}{password}@{host}:{port}/{settings_dict['NAME']}"


def app_env(url: str, **extra: str) -> dict:
    """The environment of an app process on database `url`: test settings, Celery eager (no
    broker: the shared one CI uses for the worker tests must not receive these tasks)."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    return env | {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url, **extra}


def manage(env: dict, *args: str) -> str:
    """A manage.py command's last line of output (its JSON summary)."""
    done = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def cluster(django_db_setup, django_db_blocker) -> Iterator[PrivatePostgres]:
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database to copy the schema from")
    with private_postgres() as private:
        yield private


@pytest.fixture(scope="session")
def demo_tokens(cluster) -> dict[str, str]:
    """Fills the template; the demo staff's tokens by username (valid in every clone)."""
    cluster.psql(f"CREATE DATABASE {TEMPLATE}")
    dump = subprocess.run(  # noqa: S603 - fixed argv
        ["pg_dump", "-Fc", "-d", database_url(connection.settings_dict)],  # noqa: S607
        capture_output=True,
        timeout=120,
        check=True,
    )
    subprocess.run(  # noqa: S603 - fixed argv
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", cluster.url(TEMPLATE)],  # noqa: S607
        input=dump.stdout,
        capture_output=True,
        timeout=120,
        check=True,
    )
    seeded = json.loads(manage(app_env(cluster.url(TEMPLATE)), "seed_demo"))
    return {member["username"]: member["token"] for member in seeded["staff"]}


@pytest.fixture
def fresh_database(_requires_postgres, cluster, demo_tokens) -> str:
    """A new database holding the schema and the demo program; its name. (PostgreSQL is
    required first: under CI on SQLite the test fails rather than skips.)"""
    name = f"faults_{os.getpid()}_{next(_names)}"
    # FILE_COPY: a WAL_LOG copy lost its sequences' advances in a crash here (PostgreSQL 15).
    cluster.psql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    return name


@pytest.fixture
def serve(cluster, fresh_database, demo_tokens):
    """`serve(**env)`: a gunicorn on the test's database, as demo.supervisor unless `as_user`."""
    with contextlib.ExitStack() as stack:

        def start(*, workers: int = 1, as_user: str = "demo.supervisor", **extra: str) -> Server:
            env = app_env(cluster.url(fresh_database), **extra)
            return stack.enter_context(serving(env, token=demo_tokens[as_user], workers=workers))

        yield start
