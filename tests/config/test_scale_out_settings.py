"""Scale-out settings (docs/operations.md, "Scale-out"): the replica alias and its router appear
only with DATABASE_REPLICA_URL; transaction pooling drops what PgBouncer refuses or breaks."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'databases': settings.DATABASES, "
    "'routers': settings.DATABASE_ROUTERS, 'middleware': settings.MIDDLEWARE}, default=str))"
)
PRIMARY = "postgres://caseload@db.example.org:5432/caseload"
REPLICA = "postgres://caseload@standby.example.org:5432/caseload"
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "caseload.example.org",
    "CASELOAD_SECRET_KEYS": "bm90LWEtcmVhbC1rZXktbm90LWEtcmVhbC1rZXktMDA=",
    "CASELOAD_AUDIT_KEY": "a" * 40,
}


def probe(module: str = "config.settings.test", **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL", "CASELOAD_"))
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


def settings_of(**env: str) -> dict:
    result = probe(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_replica_url_there_is_no_replica_router_or_middleware():
    found = settings_of(DATABASE_URL=PRIMARY)

    assert set(found["databases"]) == {"default"}
    assert found["routers"] == []
    assert "api.routing.ReadYourWritesMiddleware" not in found["middleware"]


def test_a_replica_url_adds_the_failover_alias_its_router_and_the_middleware():
    found = settings_of(DATABASE_URL=PRIMARY, DATABASE_REPLICA_URL=REPLICA)
    replica = found["databases"]["replica"]

    assert replica["ENGINE"] == "caseload.replica"
    assert replica["HOST"] == "standby.example.org"
    assert replica["TEST"]["MIRROR"] == "default"
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert found["routers"] == ["caseload.routing.ReplicaRouter"]
    assert "api.routing.ReadYourWritesMiddleware" in found["middleware"]


def test_transaction_pooling_sends_no_startup_options_and_uses_no_server_side_cursors():
    direct = settings_of(DATABASE_URL=PRIMARY)["databases"]["default"]
    pooled = settings_of(DATABASE_URL=PRIMARY, CASELOAD_TRANSACTION_POOLING="true")["databases"][
        "default"
    ]

    assert "statement_timeout" in direct["OPTIONS"]["options"]
    assert not direct["DISABLE_SERVER_SIDE_CURSORS"]
    assert "options" not in pooled["OPTIONS"]
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"]


def test_production_refuses_a_replica_without_redis():
    result = probe(
        "config.settings.production",
        DATABASE_URL=PRIMARY,
        DATABASE_REPLICA_URL=REPLICA,
        **PRODUCTION,
    )

    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL needs REDIS_URL" in result.stderr
