"""What an audit event costs to write with 1 monthly partition and with 60.

    DATABASE_URL=postgres://... .venv/bin/python bench/audit_partitions.py

The audit log and the disclosure ledger are partitioned by month on PostgreSQL
(caseload/partitions.py); five years of history is sixty partitions. PostgreSQL routes a row to
its partition by a binary search of the bounds, so the cost of a write should not grow with
their number. The script writes audit events the way a request does (`audit_event`: the row,
its MAC, its writing-transaction trigger, its indexes) and, closer to the database, single-row
INSERTs, with the table holding only the current month's partition and then with that month
and the 59 before it attached; the two layouts take turns round by round, so a busy machine
slows each alike. Each round writes its events in one transaction, so commit flushes (the same
for both layouts) stay out of the figure. PostgreSQL only. docs/performance.md quotes it.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from caseload.partitions import (  # noqa: E402
    COPY_SHAPE,
    month_after,
    month_of,
    partition_name,
    partitions_of,
)
from caseload.services.audit import audit_event  # noqa: E402
from tests.factories import PatientFactory, ProgramFactory, StaffFactory  # noqa: E402

TABLE = "caseload_auditevent"
PARTITIONS = 60
ROUNDS = 7
EVENTS = 500
RAW = (
    "INSERT INTO caseload_auditevent (id, occurred_at, program_id, actor_id, role, action,"
    " resource_type, resource_id, patient_id, outcome, request_id, break_glass, detail, txid,"
    " mac) VALUES (%s, now(), %s, %s, 'supervisor', 'read', 'patient', %s, %s, 'allowed', '',"
    " false, '{}', 0, '')"
)


def layouts() -> tuple[list[str], list[tuple[str, str]]]:
    """(partitions to detach for the one-partition layout, (name, bounds) of the 59 months
    before the current one, made here and attached for the sixty-partition layout)."""
    with connection.cursor() as cursor:
        present = partitions_of(cursor, TABLE)
    now = month_of(timezone.now())
    current = partition_name(TABLE, now)
    others = [name for name in present if name != current]
    months = [month_after(now, -offset) for offset in range(1, PARTITIONS)]
    history = [
        (
            partition_name(TABLE, month),
            f"FROM ('{month} 00:00:00+00') TO ('{month_after(month)} 00:00:00+00')",
        )
        for month in months
    ]
    with connection.cursor() as cursor:
        for name, _ in history:
            cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} {COPY_SHAPE})")
    return others, history


def set_layout(sixty: bool, others: list[str], history: list[tuple[str, str]]) -> int:
    """Attach the history (sixty partitions) or detach everything but the current month."""
    with connection.cursor() as cursor:
        attached = set(partitions_of(cursor, TABLE))
        for name in others:
            if name in attached:
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        for name, bounds in history:
            if sixty and name not in attached:
                cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES {bounds}")
            elif not sixty and name in attached:
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        cursor.execute(f"ANALYZE {TABLE}")
        return len(partitions_of(cursor, TABLE))


def per_event_us(write, staff, patient) -> float:
    with transaction.atomic():
        started = time.perf_counter()
        for _ in range(EVENTS):
            write(staff, patient)
        elapsed = time.perf_counter() - started
    return elapsed / EVENTS * 1_000_000


def by_service(staff, patient) -> None:
    audit_event(actor=staff, action="read", resource_type="patient", patient_ids=[patient.pk])


def by_sql(staff, patient) -> None:
    with connection.cursor() as cursor:
        cursor.execute(RAW, [uuid.uuid4(), staff.program_id, staff.pk, str(patient.pk), patient.pk])


def main() -> None:
    logging.disable(logging.WARNING)
    setup_test_environment()
    if connection.vendor != "postgresql":
        sys.exit("bench/audit_partitions.py needs PostgreSQL (set DATABASE_URL)")
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        program = ProgramFactory(code="bench")
        staff = StaffFactory(username="bench.sup", program=program, role="supervisor")
        patient = PatientFactory(actor=staff)
        others, history = layouts()
        samples: dict[tuple[int, str], list[float]] = {}
        for _ in range(ROUNDS):
            for sixty in (False, True):
                count = set_layout(sixty, others, history)
                for name, write in (("audit_event()", by_service), ("INSERT", by_sql)):
                    samples.setdefault((count, name), []).append(
                        per_event_us(write, staff, patient)
                    )
        print(f"database: postgresql, {ROUNDS} rounds of {EVENTS} events per layout and way")
        for (count, name), times in samples.items():
            print(
                f"audit write, {count:>2} partition{'s' if count > 1 else ' '} {name + ':':<14}"
                f" median {statistics.median(times):7.1f} us/event"
                f" (min {min(times):7.1f}, max {max(times):7.1f})"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
