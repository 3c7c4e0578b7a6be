"""A PostgreSQL cluster and a Redis server of a test's own, on free loopback ports.

Fault tests stop and start these; the shared services the rest of the suite uses are never
touched. Each start, stop and wait is bounded. PostgreSQL's `initdb` refuses to run as root, so
when the tests run as root the cluster belongs to the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin() -> Path:
    """The newest installed server's binaries (initdb and pg_ctl are not on PATH on Debian)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts)
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    if found is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    return Path(found).parent


def _run(argv: list[str], *, user: str | None, timeout: float = START_SECONDS) -> str:
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    done = subprocess.run(  # noqa: S603 - fixed argv
        argv, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[-1]!r} failed: {done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class PrivatePostgres:
    """One private cluster: `url(db)`, `psql(sql)`, `stop()`, `start()`; trust auth, user root."""

    root: Path
    port: int = field(default_factory=free_port)
    user: str | None = "postgres" if os.geteuid() == 0 else None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    def url(self, database: str) -> str:
        return f"postgres://root@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.sockets.mkdir(parents=True)
        if self.user is not None:
            shutil.chown(self.root, self.user)
            shutil.chown(self.sockets, self.user)
        _run(
            [str(_postgres_bin() / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "root"],
            user=self.user,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
            " -c max_connections=40 -c shared_buffers=16MB"
        )
        self._pg_ctl("start", "-o", options, "-l", str(self.root / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, WAL replayed on the next start."""
        self._pg_ctl("stop", "-m", mode)

    def _pg_ctl(self, *args: str) -> None:
        _run(
            [str(_postgres_bin() / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args],
            user=self.user,
            timeout=START_SECONDS + 5,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        return _run(
            ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", self.url(database), "-c", sql],
            user=None,
        )

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text()[-3000:] if path.exists() else ""


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    with tempfile.TemporaryDirectory(prefix="caseload-pg-") as root:
        cluster = PrivatePostgres(root=Path(root))
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                cluster.stop("immediate")


@dataclass
class PrivateRedis:
    """A Redis without persistence that never evicts (like the production broker)."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(  # noqa: S603 - fixed argv
            [  # noqa: S607 - the redis-server on PATH
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "yes"),
                *("--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"),
                *("--dir", str(self.root), "--pidfile", str(self.root / "redis.pid")),
            ],
            check=True,
            timeout=10,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.cli("ping").strip() == "PONG":
                return
            time.sleep(0.1)
        pytest.fail("private redis-server did not start")

    def stop(self) -> None:
        self.cli("shutdown", "nosave")

    def cli(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed argv
            ["redis-cli", "-p", str(self.port), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return done.stdout
