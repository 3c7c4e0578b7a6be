"""Why the audit hash chain is sealed by a periodic task rather than by each request.

    DATABASE_URL=postgres://... .venv/bin/python bench/audit_chain.py

Eight threads, each on its own connection, run write transactions that write one audit event
and then spend 2 ms on the rest of the write before committing, as a record update does. Two
ways to chain the events:

- `chained by the request`: each transaction takes the chain's head (a lock held to commit),
  reads the previous hash and writes the next one. Every write in the system queues for it.
- `sealed later` (what Caseload does): events are written freely; `audit_seal` chains them
  afterwards. The script prints the writers' throughput and latency, then how long sealing
  their events takes.

PostgreSQL only: SQLite runs one writer at a time whatever the chain does.
"""

from __future__ import annotations

import hashlib
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from caseload.models import AuditEvent, AuditSeal  # noqa: E402
from caseload.services.audit import audit_event  # noqa: E402
from caseload.services.audit_chain import audit_seal  # noqa: E402
from tests.factories import PatientFactory, ProgramFactory, StaffFactory  # noqa: E402

THREADS = 8
PER_THREAD = 150
REST_OF_THE_WRITE = 0.002  # seconds spent in the transaction after the audit row
HEAD_LOCK = 7_001


def one_write(staff, patient, chained: bool) -> None:
    with transaction.atomic():
        if chained:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HEAD_LOCK])
            # The head's hash, then the next link: the work a per-request chain adds.
            hashlib.sha256(b"previous" + str(time.time()).encode()).digest()
        audit_event(
            actor=staff,
            action="update",
            resource_type="patient",
            resource_id=patient.pk,
            patient_ids=[patient.pk],
        )
        time.sleep(REST_OF_THE_WRITE)


def run(staff, patient, chained: bool) -> tuple[float, float, float]:
    """(transactions per second, median ms, p95 ms)."""
    latencies: list[float] = []
    guard = threading.Lock()
    start = threading.Barrier(THREADS + 1)

    def writer() -> None:
        try:
            start.wait()
            mine = []
            for _ in range(PER_THREAD):
                began = time.perf_counter()
                one_write(staff, patient, chained)
                mine.append((time.perf_counter() - began) * 1000)
            with guard:
                latencies.extend(mine)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return (
        len(latencies) / elapsed,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.95) - 1],
    )


def main() -> None:
    logging.disable(logging.WARNING)
    if connection.vendor != "postgresql":
        sys.exit("bench/audit_chain.py needs PostgreSQL: set DATABASE_URL")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        program = ProgramFactory(code="bench")
        staff = StaffFactory(username="bench.sup", program=program, role="supervisor")
        patient = PatientFactory(actor=staff)
        print(
            f"{THREADS} writers x {PER_THREAD} transactions, {REST_OF_THE_WRITE * 1000:.0f} ms"
            " of other work after the audit row"
        )
        for chained in (True, False):
            label = "chained by the request" if chained else "sealed later          "
            rate, median, p95 = run(staff, patient, chained)
            print(f"{label}  {rate:7.0f} writes/s  median={median:6.1f} ms  p95={p95:6.1f} ms")
        pending = AuditEvent.objects.count() - AuditSeal.objects.count()
        began = time.perf_counter()
        sealed = audit_seal()
        elapsed = time.perf_counter() - began
        assert sealed == pending
        print(
            f"audit_seal: {sealed} events in {elapsed * 1000:.0f} ms"
            f" ({sealed / elapsed:,.0f} events/s, one run a minute)"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
