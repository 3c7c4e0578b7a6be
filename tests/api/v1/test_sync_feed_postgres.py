"""The sync feed's guarantees on PostgreSQL, under real concurrency.

20,000 appointments (one group of 5,000 sharing one `updated_at` and one transaction) are walked
over HTTP while another connection keeps changing random appointments and a third holds one
transaction open across the whole walk. The walk plus its `next_sync` walk must deliver every
appointment, every change, and no unchanged row twice.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseload.feed import feed_stamp
from caseload.models import Appointment, Patient
from caseload.services.appointments import appointment_update
from tests.api.v1.test_sync_feed import EPOCH, FEED, settle, walk
from tests.conftest import integration_for
from tests.factories import StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TOTAL, GROUP, PATIENTS = 20_000, 5_000, 200


def bulk_appointments(program, supervisor, staff, total: int) -> list[str]:
    """`total` booked appointments in transactions of GROUP rows; the second group shares one
    `updated_at` (and, like every group, one transaction id)."""
    with transaction.atomic():
        seq = feed_stamp()
        patients = Patient.objects.bulk_create(
            Patient(
                program=program,
                mrn=f"FEED{i:05d}",
                given_name="Feed",
                family_name=f"Synthetic{i}",
                birth_date=date(1980, 1, 1),
                change_seq=seq,
                created_by=supervisor,
                updated_by=supervisor,
            )
            for i in range(PATIENTS)
        )
    start = timezone.now() + timedelta(days=3)
    shared = timezone.now()
    ids: list[str] = []
    for first in range(0, total, GROUP):
        with transaction.atomic():
            seq = feed_stamp()
            rows = Appointment.objects.bulk_create(
                Appointment(
                    patient=patients[i % PATIENTS],
                    program_id=patients[i % PATIENTS].program_id,
                    staff=staff,
                    kind="counseling",
                    start=start + timedelta(minutes=i),
                    end=start + timedelta(minutes=i + 30),
                    location="Room 1",
                    overlap_allowed=True,
                    change_seq=seq,
                    created_by=supervisor,
                    updated_by=supervisor,
                )
                for i in range(first, min(first + GROUP, total))
            )
            if first == GROUP:
                Appointment.objects.filter(pk__in=[r.pk for r in rows]).update(updated_at=shared)
        ids += [str(r.pk) for r in rows]
    return ids


def test_a_walk_and_its_sync_lose_nothing_under_writers_and_a_long_transaction(
    program, supervisor, counselor
):
    ids = bulk_appointments(program, supervisor, counselor, TOTAL)
    assert (
        Appointment.objects.filter(
            updated_at=Appointment.objects.get(pk=ids[GROUP]).updated_at
        ).count()
        == GROUP
    )
    held_staff = StaffFactory(program=program, role="counselor")
    held = Appointment.objects.get(pk=ids[GROUP + 17])  # in the shared-updated_at group
    Appointment.objects.filter(pk=held.pk).update(staff=held_staff)
    integration = integration_for(program)

    started, release, stop = threading.Event(), threading.Event(), threading.Event()
    updated: set[str] = set()
    failures: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                appointment_update(
                    appointment=Appointment.objects.get(pk=held.pk),
                    actor=supervisor,
                    changes={"location": "Held open"},
                    expected_version=None,
                )
                started.set()
                release.wait(timeout=120)
        except BaseException as exc:
            failures.append(exc)
            started.set()
        finally:
            connection.close()

    def updater() -> None:
        rng = random.Random(20_000)  # noqa: S311 - picks rows to change, not a secret
        try:
            while not stop.is_set():
                pk = rng.choice(ids)
                if pk == str(held.pk):
                    continue
                appointment_update(
                    appointment=Appointment.objects.get(pk=pk),
                    actor=supervisor,
                    changes={"location": f"Room {rng.randint(2, 99)}"},
                    expected_version=None,
                )
                updated.add(pk)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    assert started.wait(timeout=30)
    settle()  # every bulk row is servable (below the held transaction)
    writer = threading.Thread(target=updater)
    writer.start()
    began = time.perf_counter()
    walked, next_sync = walk(
        integration, FEED, {"updated_since": EPOCH, "page_size": 250}, wait=False
    )
    walk_seconds = time.perf_counter() - began
    stop.set()
    writer.join(timeout=60)
    release.set()
    holder.join(timeout=60)
    assert not failures, failures
    assert len(updated) > 50, "the writer should have changed rows during the walk"

    synced, _ = walk(integration, next_sync)
    walked_ids = [item["id"] for item in walked]
    synced_ids = [item["id"] for item in synced]
    changed = updated | {str(held.pk)}
    # Within each walk every appointment arrives at most once.
    assert len(walked_ids) == len(set(walked_ids))
    assert len(synced_ids) == len(set(synced_ids))
    # Together they deliver every appointment, and the sync exactly what changed since.
    assert set(walked_ids) | set(synced_ids) == set(ids)
    assert set(synced_ids) == changed
    # No unchanged row twice.
    assert set(walked_ids) & set(synced_ids) <= changed
    # The last delivery of each appointment is its current state: no change lost, the long
    # transaction's late commit included.
    last = {item["id"]: item for item in walked} | {item["id"]: item for item in synced}
    current = dict(Appointment.objects.values_list("id", "version"))
    assert all(last[str(pk)]["version"] == version for pk, version in current.items())
    assert last[str(held.pk)]["location"] == "Held open"
    print(
        f"\nsync feed: walked {len(walked_ids)} rows in {walk_seconds:.1f} s "
        f"({len(walked_ids) / walk_seconds:.0f} rows/s) while {len(updated)} rows changed; "
        f"next_sync delivered {len(synced_ids)}"
    )


@pytest.fixture
def two_thousand(program, supervisor, counselor):
    ids = bulk_appointments(program, supervisor, counselor, 2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE caseload_appointment")
        cursor.execute("ANALYZE caseload_patient")
    return ids


def test_a_feed_page_costs_the_same_queries_at_any_page_size(program, two_thousand):
    integration = integration_for(program)
    settle()
    counts = {}
    for size in (10, 100, 1000):
        first = integration.get(FEED, {"updated_since": EPOCH, "page_size": size})
        # Read the page once first: the audit stores each new set of patients once (a new set
        # costs an INSERT, a repeated one a lookup), and the count compares like with like.
        integration.get(first.json()["next"])
        with CaptureQueriesContext(connection) as captured:
            response = integration.get(first.json()["next"])
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = len(captured.captured_queries)
    assert counts[10] == counts[100] == counts[1000], counts
    print(f"\nsync feed page queries: {counts}")


def test_the_feed_page_query_is_an_index_range_scan(program, two_thousand):
    integration = integration_for(program)
    settle()
    first = integration.get(FEED, {"updated_since": EPOCH, "page_size": 100})
    with CaptureQueriesContext(connection) as captured:
        integration.get(first.json()["next"])
    page_sql = [
        q["sql"]
        for q in captured.captured_queries
        # The page is read as column tuples, ordered by the selected (change_seq, id).
        if q["sql"].startswith("SELECT")
        and 'FROM "caseload_appointment"' in q["sql"]
        and "ORDER BY" in q["sql"]
        and "LIMIT 101" in q["sql"]
    ]
    assert len(page_sql) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + page_sql[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # A QSOA client's page: its program's range of `(program, change_seq, id)` (migration 0021).
    assert "Index Scan using appointment_program_feed" in plan, plan
    condition = plan.replace('"', "")
    assert "Index Cond: ((program_id = " in condition, plan
    assert "(ROW(change_seq, id) > ROW(" in condition, plan
    assert "Sort" not in plan and "Offset" not in plan, plan


def test_healthz_shows_the_lag_a_long_transaction_causes(client, program, supervisor, counselor):
    ids = bulk_appointments(program, supervisor, counselor, 3)
    other_staff = StaffFactory(program=program, role="counselor")
    Appointment.objects.filter(pk=ids[0]).update(staff=other_staff)
    settle()
    assert client.get("/healthz").json()["feed"]["lag_seconds"] == 0
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                appointment_update(
                    appointment=Appointment.objects.get(pk=ids[0]),
                    actor=supervisor,
                    changes={"location": "Held"},
                    expected_version=None,
                )
                started.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert started.wait(timeout=10)
    appointment_update(  # committed after the held one began: the feed cannot serve it yet
        appointment=Appointment.objects.get(pk=ids[1]),
        actor=supervisor,
        changes={"location": "Room 5"},
        expected_version=None,
    )
    time.sleep(1.2)
    feed = client.get("/healthz").json()["feed"]
    release.set()
    holder.join(timeout=10)
    assert feed["lag_seconds"] >= 1.0
    assert feed["waiting_transactions"] >= 1
    settle()
    assert client.get("/healthz").json()["feed"]["lag_seconds"] == 0
