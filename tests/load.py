"""Client threads that keep writing to a real server while a fault test breaks something."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from tests.gunicorn_server import Reply, Server

BOUND_SECONDS = 20


@dataclass
class Writes:
    """What every writer sent and what came back, with when (time.monotonic())."""

    replies: list[tuple[float, Reply]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # no answer at all
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, since: float = 0.0) -> list[str]:
        with self.lock:
            return [r.body["id"] for at, r in self.replies if r.status == 201 and at >= since]

    def answered(self, since: float = 0.0) -> list[Reply]:
        with self.lock:
            return [reply for at, reply in self.replies if at >= since]

    def sent(self, since: float) -> list[Reply]:
        """The replies to requests sent at `since` or later."""
        with self.lock:
            return [reply for at, reply in self.replies if at - reply.seconds >= since]


@contextmanager
def writers(
    server: Server, path: str, body: Callable[[int, int], dict], count: int = 3
) -> Iterator[Writes]:
    """`count` threads POSTing `body(writer, number)` to `path` until the block ends."""
    writes, stop = Writes(), threading.Event()

    def write(writer: int) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                reply = server.call("POST", path, body(writer, number))
            except OSError as exc:
                with writes.lock:
                    writes.failures.append(repr(exc))
            else:
                with writes.lock:
                    writes.replies.append((time.monotonic(), reply))
            time.sleep(0.02)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield writes
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=BOUND_SECONDS)


def wait_until(condition, what: str, seconds: float = BOUND_SECONDS) -> float:
    """Seconds until `condition()` held; fails past `seconds`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"{what} within {seconds}s")
        time.sleep(0.05)
    return time.monotonic() - started
