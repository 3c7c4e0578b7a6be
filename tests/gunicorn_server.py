"""A real gunicorn serving config.wsgi on loopback, and a raw client that streams large bodies."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIECE = b"x" * (256 * 1024)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(database_path: Path, extra_env: dict | None) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{database_path}",
        **(extra_env or {}),
    }


def _manage(env: dict, *args: str) -> str:
    """Run a set-up command against the server's database; its last line (JSON)."""
    done = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, check=True
    )
    return done.stdout.decode().strip().splitlines()[-1] if done.stdout.strip() else ""


@contextlib.contextmanager
def running_gunicorn(database_path: Path, extra_env: dict | None = None) -> Iterator[Server]:
    """gunicorn on a fresh migrated database holding one supervisor, whose token is `token`."""
    env = _environment(database_path, extra_env)
    _manage(env, "migrate", "--no-input", "-v", "0")
    _manage(env, "create_program", "live", "--name", "Live server (test)")
    token = json.loads(
        _manage(env, "create_staff", "live.sup", "--program", "live", "--role", "supervisor")
    )["token"]
    with serving(env, token=token) as server:
        yield server


@contextlib.contextmanager
def serving(env: dict, *, token: str = "", workers: int = 1) -> Iterator[Server]:
    """gunicorn with the production config file (config/gunicorn.py) and `env`, on a free port."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            "config/gunicorn.py",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        yield Server(port=port, process=process, token=token)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: dict | list | None
    seconds: float


@dataclass
class Answer:
    status: int
    head: bytes
    body_bytes_sent: int
    seconds: float


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    token: str

    def post(self, path: str, size: int, *, chunked: bool) -> Answer:
        """POST a `size`-byte JSON object, declared by Content-Length or sent chunked.

        Sending stops as soon as the server answers (or closes): a server that refuses early
        is seen to have received little of the body.
        """
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        sent = 0
        with socket.create_connection(("127.0.0.1", self.port), 60) as conn:
            conn.sendall(head)
            for piece in padded_json(size):
                if _readable(conn, 0.001 if sent else 0.2):
                    break
                try:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                except OSError:  # the server answered and closed while we were sending
                    break
                sent += len(piece)
            if chunked and sent >= size:
                with contextlib.suppress(OSError):
                    conn.sendall(b"0\r\n\r\n")
            reply = _read_head(conn)
        status = int(reply.split(b" ", 2)[1]) if reply else 0
        return Answer(status, reply, sent, time.monotonic() - started)

    def call(
        self, method: str, path: str, body: dict | None = None, *, timeout: float = 30
    ) -> Reply:
        """One JSON request with the server's token on a connection of its own.

        Raises OSError when the connection fails or closes without an answer.
        """
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return Reply(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=json.loads(raw) if is_json and raw else None,
            seconds=time.monotonic() - started,
        )

    def get_status(self, path: str, *, content_type: str) -> int:
        head = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", self.port), 30) as conn:
            conn.sendall(head)
            reply = _read_head(conn)
        return int(reply.split(b" ", 2)[1]) if reply else 0


def padded_json(size: int) -> Iterator[bytes]:
    """`{"family_name": "xxx…"}`, exactly `size` bytes, in pieces."""
    head, tail = b'{"family_name": "', b'"}'
    yield head
    left = size - len(head) - len(tail)
    while left > 0:
        piece = PIECE[:left]
        left -= len(piece)
        yield piece
    yield tail


def _readable(conn: socket.socket, timeout: float) -> bool:
    return bool(select.select([conn], [], [], timeout)[0])


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data:
            piece = conn.recv(65536)
            if not piece:
                break
            data += piece
        # The JSON body is small and follows at once.
        if _readable(conn, 0.5):
            data += conn.recv(65536)
    return data


def rss_kib(pid: int) -> dict[str, int]:
    """Resident and peak resident memory of a process, in KiB (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0])
    return fields


def worker_pid(server: Server) -> int:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return int(children.read_text().split()[0])
