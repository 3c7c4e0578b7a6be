"""Staff reads from a real streaming replica (caseload/routing.py), through a real gunicorn.

The test starts its own primary and a standby made from it with `pg_basebackup -R` on free
loopback ports (tests/private_services.py); the shared server is never touched. Pausing the
standby's replay makes the replica visibly behind, which is how each test knows which server
answered: a note written while replay is paused is on the primary only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from tests.gunicorn_server import ROOT, Server, serving
from tests.private_services import PrivatePostgres, PrivateRedis, _postgres_bin, _run

# django_db: the suite database exists (and is migrated) before the fixture copies it.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

READ_YOUR_WRITES_SECONDS = 3


class Cluster(PrivatePostgres):
    """A private cluster that skips fsync: nothing here must survive a power cut."""

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
            " -c max_connections=40 -c shared_buffers=16MB -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("start", "-o", options, "-l", str(self.root / "server.log"))


@dataclass
class Replicated:
    primary: PrivatePostgres
    standby: PrivatePostgres
    redis: PrivateRedis
    env: dict
    writer_token: str
    reader_token: str
    patient: str

    def pause_replay(self) -> None:
        self.standby.psql("SELECT pg_wal_replay_pause()", "caseload")

    def resume_replay(self) -> None:
        self.standby.psql("SELECT pg_wal_replay_resume()", "caseload")


def _standby_from(primary: PrivatePostgres, root: Path) -> PrivatePostgres:
    standby = Cluster(root=root)
    standby.sockets.mkdir(parents=True)
    if standby.user is not None:
        shutil.chown(root, standby.user)
        shutil.chown(standby.sockets, standby.user)
    _run(
        [
            str(_postgres_bin() / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "root"),
            *("-D", str(standby.data), "-R", "-X", "stream", "-c", "fast"),
        ],
        user=standby.user,
        timeout=120,
    )
    standby.start()
    return standby


def _manage(env: dict, *args: str) -> str:
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


def _suite_database_url() -> str:
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host, port = params.get("HOST") or "127.0.0.1", params.get("PORT") or 5432
    return f"postgres://{params['USER']}{password}@{host}:{port}/{params['NAME']}"


def _copy_schema(primary: PrivatePostgres) -> None:
    """The migrated schema of the suite's own test database, restored on the private primary
    (much faster than migrating it again)."""
    primary.psql("CREATE DATABASE caseload")
    dump = subprocess.run(  # noqa: S603 - fixed argv
        ["pg_dump", "-Fc", "-d", _suite_database_url()],  # noqa: S607
        capture_output=True,
        timeout=120,
        check=True,
    )
    subprocess.run(  # noqa: S603 - fixed argv
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", primary.url("caseload")],  # noqa: S607
        input=dump.stdout,
        capture_output=True,
        timeout=120,
        check=True,
    )


@pytest.fixture(scope="module")
def replicated(django_db_setup, django_db_blocker) -> Iterator[Replicated]:
    if connection.vendor != "postgresql":
        if os.environ.get("CI") or os.environ.get("CASELOAD_REQUIRE_POSTGRES"):
            pytest.fail("The replica tests need PostgreSQL and CI must run them there.")
        pytest.skip("needs PostgreSQL (set DATABASE_URL); CI runs it there")
    # Under /tmp, not pytest's private temporary directory: the clusters' owner must reach it.
    root = Path(tempfile.mkdtemp(prefix="caseload-replica-"))
    os.chmod(root, 0o755)  # noqa: S103 - holds only the two clusters' own (0700) directories
    primary = Cluster(root=root / "primary")
    primary.init()
    primary.start()
    redis = PrivateRedis(root=root)
    try:
        _copy_schema(primary)
        base = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": primary.url("caseload"),
        }
        _manage(base, "create_program", "repl", "--name", "Replica (test)")
        tokens = [
            json.loads(
                _manage(base, "create_staff", name, "--program", "repl", "--role", "supervisor")
            )["token"]
            for name in ("repl.writer", "repl.reader")
        ]
        standby = _standby_from(primary, root / "standby")
        redis.start()
        env = base | {
            "DATABASE_REPLICA_URL": standby.url("caseload"),
            "CASELOAD_REPLICA_MAX_LAG_SECONDS": "300",
            "CASELOAD_READ_YOUR_WRITES_SECONDS": str(READ_YOUR_WRITES_SECONDS),
            # The read-your-writes window is shared by every web process through Redis.
            "REDIS_URL": redis.url,
        }
        setup = Replicated(primary, standby, redis, env, tokens[0], tokens[1], patient="")
        with serving(env, token=tokens[0]) as writer:
            created = writer.call("POST", "/api/v1/patients/", PATIENT)
            assert created.status == 201, created.body
        setup.patient = created.body["id"]
        yield setup
    finally:
        with contextlib.suppress(Exception):
            redis.stop()
        for cluster in (locals().get("standby"), primary):
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


PATIENT = {
    "mrn": "REPL-1",
    "given_name": "Riley",
    "family_name": "Synthetic",
    "birth_date": "1988-04-05",
}


def note(patient: str, body: str) -> dict:
    written = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    return {"patient": patient, "body": body, "written_at": written}


@contextlib.contextmanager
def two_workers(setup: Replicated, **extra_env: str) -> Iterator[tuple[Server, Server]]:
    """The writer and the reader, on one gunicorn with two worker processes."""
    with serving(setup.env | extra_env, token=setup.writer_token, workers=2) as writer:
        yield writer, replace(writer, token=setup.reader_token)


def write(writer: Server, setup: Replicated, body: str) -> None:
    reply = writer.call("POST", "/api/v1/notes/", note(setup.patient, body))
    assert reply.status == 201, reply.body


def notes_in_history(server: Server, patient: str) -> set[str]:
    reply = server.call("GET", f"/api/v1/patients/{patient}/history/")
    assert reply.status == 200, reply.body
    return {entry["record"]["body"] for entry in reply.body["results"] if entry["type"] == "note"}


def wait_until(check, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_staff_members_history_is_served_by_the_replica(replicated):
    with two_workers(replicated) as (writer, reader):
        replicated.pause_replay()
        try:
            assert (
                writer.call("POST", "/api/v1/notes/", note(replicated.patient, "n1")).status == 201
            )

            # Replay is paused: only the primary has the note, and the reader does not see it.
            assert "n1" not in notes_in_history(reader, replicated.patient)
        finally:
            replicated.resume_replay()

        assert wait_until(lambda: "n1" in notes_in_history(reader, replicated.patient))


def test_a_writer_reads_their_own_write_at_once_from_any_worker(replicated):
    with two_workers(replicated) as (writer, reader):
        replicated.pause_replay()
        try:
            assert (
                writer.call("POST", "/api/v1/notes/", note(replicated.patient, "n2")).status == 201
            )

            # Every one of these reads, whichever worker takes it, comes from the primary.
            for _ in range(6):
                assert "n2" in notes_in_history(writer, replicated.patient)
            assert "n2" not in notes_in_history(reader, replicated.patient)
            # Once the window has passed, the writer reads from the replica again.
            time.sleep(READ_YOUR_WRITES_SECONDS + 0.5)
            assert "n2" not in notes_in_history(writer, replicated.patient)
        finally:
            replicated.resume_replay()


def test_a_replica_lagging_past_the_limit_is_skipped(replicated):
    with two_workers(replicated, CASELOAD_REPLICA_MAX_LAG_SECONDS="1") as (writer, reader):
        replicated.pause_replay()
        try:
            assert (
                writer.call("POST", "/api/v1/notes/", note(replicated.patient, "n3")).status == 201
            )
            time.sleep(2.5)  # the replica is now more than a second behind

            assert "n3" in notes_in_history(reader, replicated.patient)
        finally:
            replicated.resume_replay()


def test_a_sync_walk_reads_the_primary_even_for_staff(replicated):
    """Only a staff member's plain GET opts in: a walk by `updated_since` (what an integration
    reads too) takes its horizon and its rows from the primary."""
    with two_workers(replicated) as (writer, reader):
        replicated.pause_replay()
        try:
            created = writer.call("POST", "/api/v1/patients/", PATIENT | {"mrn": "REPL-2"})
            assert created.status == 201, created.body

            walk = reader.call("GET", "/api/v1/patients/?updated_since=2000-01-01T00:00:00Z")
            listed = reader.call("GET", "/api/v1/patients/")

            assert walk.status == listed.status == 200
            assert "REPL-2" in {row["mrn"] for row in walk.body["results"]}
            assert "REPL-2" not in {row["mrn"] for row in listed.body["results"]}
        finally:
            replicated.resume_replay()


def test_stopping_the_replica_mid_run_costs_no_error(replicated):
    statuses: list[int] = []
    stop = threading.Event()

    with two_workers(replicated) as (writer, reader):
        write(writer, replicated, "n5")
        assert wait_until(lambda: "n5" in notes_in_history(reader, replicated.patient))

        def read_on() -> None:
            while not stop.is_set():
                for path in (
                    f"/api/v1/patients/{replicated.patient}/history/",
                    "/api/v1/notes/",
                    f"/api/v1/patients/{replicated.patient}/",
                ):
                    statuses.append(reader.call("GET", path).status)

        readers = [threading.Thread(target=read_on) for _ in range(2)]
        for thread in readers:
            thread.start()
        try:
            time.sleep(1.5)
            replicated.standby.stop("immediate")
            time.sleep(3)
            written = writer.call("POST", "/api/v1/notes/", note(replicated.patient, "n6"))
            assert written.status == 201
            time.sleep(1.5)
        finally:
            stop.set()
            for thread in readers:
                thread.join(timeout=30)
            replicated.standby.start()

        assert statuses and set(statuses) == {200}, sorted(set(statuses))
        assert len(statuses) > 20
        # With the replica gone the primary answers, so the newest note is there at once.
        assert "n6" in notes_in_history(reader, replicated.patient)
