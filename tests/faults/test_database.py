"""The database fails under a real gunicorn: it crashes mid-write, or a statement waits too long.

What the API promises (docs/operations.md, "Limits" and "Faults"): every write it acknowledged
survives; while the database is away it answers 503 `database_unavailable` with `Retry-After`,
never 500, and `/healthz` names the database; it recovers by itself once the database is back.
A statement that waits past the statement timeout answers 503 `database_timeout` and frees the
worker; a request past gunicorn's timeout answers 503 `request_timeout` and its worker is
replaced.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.gunicorn_server import Reply, Server
from tests.load import wait_until, writers

WRITERS = 3
OUTAGE_SECONDS = 2


def note(patient: str, text: str) -> dict:
    written_at = datetime.now(UTC) - timedelta(minutes=1)
    return {"patient": patient, "written_at": written_at.isoformat(), "body": text}


def first_patient(server: Server) -> str:
    reply = server.call("GET", "/api/v1/patients/")
    assert reply.status == 200, reply.body
    return reply.body["results"][0]["id"]


@pytest.mark.postgres
def test_a_database_crash_under_writes_loses_no_acknowledged_write_and_answers_503_meanwhile(
    cluster, fresh_database, serve
):
    server = serve(workers=2)
    patient = first_patient(server)
    health: list[Reply] = []

    def body(writer: int, number: int) -> dict:
        return note(patient, f"writer {writer} note {number}")

    with writers(server, "/api/v1/notes/", body, count=WRITERS) as writes:
        wait_until(lambda: len(writes.acknowledged()) >= 10, "no writes before the crash")
        crashed = time.monotonic()
        cluster.stop("immediate")  # a crash: no checkpoint; committed work is in the WAL
        health.append(server.call("GET", "/healthz"))
        time_to_503 = wait_until(
            lambda: any(r.status == 503 for r in writes.answered(since=crashed)),
            "no write answered 503 while the database was down",
        )
        health.append(server.call("GET", "/healthz"))
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - crashed)))
        cluster.start()
        restarted = time.monotonic()
        time_to_recover = wait_until(
            lambda: writes.acknowledged(since=restarted), "no write acknowledged after restart"
        )
        time.sleep(0.5)

    statuses = [reply.status for _, reply in writes.replies]
    refused = [reply for _, reply in writes.replies if reply.status != 201]
    acknowledged = set(writes.acknowledged())
    stored = set(
        cluster.psql(
            "SELECT id FROM caseload_casenote WHERE body LIKE 'writer %'", fresh_database
        ).split()
    )
    print(  # the figures docs/operations.md "Faults" quotes
        f"\nwrites attempted={len(statuses) + len(writes.failures)} "
        f"acknowledged={len(acknowledged)} refused_503={len(refused)} "
        f"stored={len(stored)} lost={len(acknowledged - stored)} "
        f"time_to_503={time_to_503:.2f}s time_to_recover={time_to_recover:.2f}s"
    )
    assert writes.failures == []
    assert set(statuses) == {201, 503}, [r.body for r in refused if r.status != 503][:3]
    for reply in refused:
        assert reply.body["code"] == "database_unavailable", reply.body
        assert int(reply.headers["retry-after"]) > 0
    assert acknowledged <= stored  # every acknowledged write survived the crash
    assert len(stored - acknowledged) <= WRITERS  # at most the ones in flight at the crash
    assert [(r.status, r.body["database"].startswith("error")) for r in health] == [
        (503, True),
        (503, True),
    ]
    assert health[-1].body["status"] == "error"
    assert server.call("GET", "/healthz").status == 200  # recovered without a restart


def lock_notes(cluster, database: str) -> psycopg.Connection:
    """A connection holding a lock that lets notes be read but not written, until it closes."""
    holder = psycopg.connect(cluster.url(database))
    holder.execute("LOCK TABLE caseload_casenote IN EXCLUSIVE MODE")
    return holder


def notes_with(cluster, database: str, text: str) -> int:
    with psycopg.connect(cluster.url(database)) as conn:
        query = "SELECT count(*) FROM caseload_casenote WHERE body = %s"
        return conn.execute(query, [text]).fetchone()[0]


@pytest.mark.postgres
def test_a_write_waiting_on_a_lock_answers_503_at_the_statement_timeout_and_the_worker_serves_on(
    cluster, fresh_database, serve
):
    server = serve(CASELOAD_STATEMENT_TIMEOUT_MS="300")
    patient = first_patient(server)
    assert server.call("POST", "/api/v1/notes/", note(patient, "before")).status == 201

    with lock_notes(cluster, fresh_database):
        stuck = server.call("POST", "/api/v1/notes/", note(patient, "stuck"))
        # The one worker is free again: a read answers while the lock is still held.
        read = server.call("GET", f"/api/v1/notes/?patient={patient}")
    after = server.call("POST", "/api/v1/notes/", note(patient, "after"))

    print(f"\nstatement timeout 300 ms: answered {stuck.status} in {stuck.seconds:.2f}s")
    assert stuck.status == 503
    assert stuck.body["code"] == "database_timeout"
    assert stuck.headers["retry-after"] == "1"
    assert stuck.seconds < 10  # bounded: without the timeout it waits as long as the lock
    assert read.status == 200
    assert after.status == 201
    assert notes_with(cluster, fresh_database, "stuck") == 0


@pytest.mark.postgres
def test_a_request_past_the_gunicorn_timeout_answers_503_and_a_new_worker_serves_the_next(
    cluster, fresh_database, serve
):
    server = serve(CASELOAD_STATEMENT_TIMEOUT_MS="0", GUNICORN_TIMEOUT_SECONDS="2")
    patient = first_patient(server)

    with lock_notes(cluster, fresh_database):
        stuck = server.call("POST", "/api/v1/notes/", note(patient, "cut off"))
    after = server.call("POST", "/api/v1/notes/", note(patient, "after"))

    print(f"\ngunicorn timeout 2 s: answered {stuck.status} in {stuck.seconds:.2f}s")
    assert (stuck.status, stuck.body["code"]) == (503, "request_timeout")
    assert int(stuck.headers["retry-after"]) > 0
    assert 2 <= stuck.seconds < 10
    assert after.status == 201  # from the worker gunicorn started in place of the stopped one
    # The killed worker never committed: its transaction ended with its connection.
    assert notes_with(cluster, fresh_database, "cut off") == 0
