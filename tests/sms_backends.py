"""SMS backends for tests: one that keeps messages in memory, one that appends to a file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from caseload.sms import SmsError


class MemorySmsBackend:
    sent: list[tuple[str, str, str]] = []
    fail_next = 0

    def send(self, *, to: str, body: str, idempotency_key: str) -> None:
        if MemorySmsBackend.fail_next:
            MemorySmsBackend.fail_next -= 1
            raise SmsError("provider unavailable")
        MemorySmsBackend.sent.append((to, body, idempotency_key))


class FileSmsBackend:
    """Appends each message to $CASELOAD_TEST_SMS_FILE, after $CASELOAD_TEST_SMS_DELAY seconds
    (a slow provider, so a test can kill the worker mid-send). A marker file says a send began."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> None:
        path = Path(os.environ["CASELOAD_TEST_SMS_FILE"])
        Path(f"{path}.started").write_text(idempotency_key)
        time.sleep(float(os.environ.get("CASELOAD_TEST_SMS_DELAY", "0")))
        with path.open("a") as out:
            out.write(json.dumps({"to": to, "key": idempotency_key}) + "\n")
