"""The backup and restore drill of docs/operations.md "Backup and restore", run for real.

The demo program plus writes through the API are dumped with `pg_dump -Fc` and restored with
`pg_restore` into a new, empty database on another cluster, as after losing a server. The
restored copy passes `verify_audit_chain`, keeps the audit log append-only, seals what is written
after the restore, and a gunicorn on it answers exactly as one on the original does.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.faults.conftest import app_env, manage
from tests.gunicorn_server import Server, serving
from tests.private_services import private_postgres

# Set anew on every answer: when it was made and the id of the request.
PER_REQUEST_HEADERS = {"date", "expires", "x-request-id"}


def note(patient: str, text: str) -> dict:
    written_at = datetime.now(UTC) - timedelta(minutes=1)
    return {"patient": patient, "written_at": written_at.isoformat(), "body": text}


def answers(server: Server, patient: str) -> list[tuple]:
    paths = [
        "/api/v1/patients/",
        f"/api/v1/patients/{patient}/",
        f"/api/v1/notes/?patient={patient}",
        "/api/v1/appointments/?page_size=100",
        f"/api/v1/medications/?patient={patient}",
        "/fhir/Patient",
    ]
    replies = [(path, server.call("GET", path)) for path in paths]
    return [
        (
            path,
            reply.status,
            reply.body,
            {
                k: _same_order(k, v)
                for k, v in reply.headers.items()
                if k not in PER_REQUEST_HEADERS
            },
        )
        for path, reply in replies
    ]


def _same_order(name: str, value: str) -> str:
    """A Content-Security-Policy's directives in one order: django-csp writes them in an order
    that differs between processes, with the same meaning."""
    if name.lower() != "content-security-policy":
        return value
    return "; ".join(sorted(part.strip() for part in value.split(";")))


def verify(url: str) -> dict:
    return json.loads(manage(app_env(url), "verify_audit_chain"))


@pytest.mark.postgres
def test_a_dump_restored_on_a_new_cluster_verifies_and_answers_like_the_original(
    cluster, fresh_database, serve, demo_tokens, tmp_path
):
    original = cluster.url(fresh_database)
    server = serve()
    patient = server.call("GET", "/api/v1/patients/").body["results"][0]["id"]
    for number in range(3):
        reply = server.call("POST", "/api/v1/notes/", note(patient, f"before backup {number}"))
        assert reply.status == 201
    sealed = verify(original)
    assert sealed["ok"]

    dump = tmp_path / "caseload.dump"
    subprocess.run(  # noqa: S603 - the documented command
        ["pg_dump", "-Fc", "-d", original, "-f", str(dump)],  # noqa: S607
        check=True,
        timeout=120,
    )
    with private_postgres() as replacement:
        replacement.psql("CREATE DATABASE caseload_restored")
        restored = replacement.url("caseload_restored")
        subprocess.run(  # noqa: S603 - the documented command
            ["pg_restore", "--exit-on-error", "--single-transaction", "-d", restored, str(dump)],  # noqa: S607
            check=True,
            timeout=120,
        )

        assert verify(restored) == sealed
        with pytest.raises(RuntimeError, match="append-only"):
            replacement.psql("UPDATE caseload_auditevent SET action = 'read'", "caseload_restored")
        before = answers(server, patient)
        token = demo_tokens["demo.supervisor"]
        with serving(app_env(restored), token=token) as copy:
            assert answers(copy, patient) == before
            assert copy.call("POST", "/api/v1/notes/", note(patient, "after")).status == 201
        after = verify(restored)

    # What is written after the restore is sealed too, though this cluster's transaction ids
    # started again from low numbers.
    assert after["ok"]
    assert after["events"] > sealed["events"]
