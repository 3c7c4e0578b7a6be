"""Monthly partitions of the audit log and the disclosure ledger on PostgreSQL: the migration
keeps every row (there and back), `create_audit_partitions` is safe to run again, a row of a
month with no partition lands in the default and stays readable and sealed, the seal chain
verifies across months, and month-bounded reads touch only their month's partition."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from caseload import tasks
from caseload.models import AuditEvent, Disclosure
from caseload.partitions import TABLES, is_partitioned, partition_name, partitions_of
from tests.caseload.test_audit_chain import as_superuser, lab_disclosure, verify

pytestmark = pytest.mark.postgres
BEFORE = [("caseload", "0019_patient_rights")]
AUDIT, LEDGER = TABLES


def at(year: int, month: int, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


@contextmanager
def clock(moment: datetime):
    """Audit events written now carry `moment` as their time (the field's default)."""
    with mock.patch.object(
        AuditEvent._meta.get_field("occurred_at"), "_get_default", lambda: moment
    ):
        yield


def read_patient_at(api, patient, moment: datetime) -> None:
    with clock(moment):
        assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200


def disclose_at(patient, actor, moment: datetime) -> Disclosure:
    with clock(moment):
        return lab_disclosure(patient, actor, disclosed_at=moment)


def activity_in(api, patient, staff, year: int, months: tuple[int, ...]) -> None:
    """A read of the patient and a disclosure of their records in each of `months`."""
    for month in months:
        read_patient_at(api, patient, at(year, month))
        disclose_at(patient, staff, at(year, month))


def create_partitions(months: int = 0) -> dict:
    out = StringIO()
    call_command("create_audit_partitions", f"--months={months}", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def rows_by_partition(table: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        sql = f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1"  # noqa: S608
        cursor.execute(sql)
        return dict(cursor.fetchall())


def partitioned(table: str) -> bool:
    with connection.cursor() as cursor:
        return is_partitioned(cursor, table)


def test_the_migration_keeps_every_row_there_and_back(
    transactional_db, as_user, supervisor, patient
):
    api = as_user(supervisor)
    activity_in(api, patient, supervisor, 2026, (6, 7, 8))
    events = set(AuditEvent.objects.values_list("pk", "occurred_at", "mac"))
    ledger = set(Disclosure.objects.values_list("pk", "disclosed_at", "mac"))
    assert partitioned(AUDIT) and partitioned(LEDGER)

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert not partitioned(AUDIT) and not partitioned(LEDGER)
    assert create_partitions() == {"partitioned": False}  # nothing to make on plain tables
    assert set(AuditEvent.objects.values_list("pk", "occurred_at", "mac")) == events
    assert set(Disclosure.objects.values_list("pk", "disclosed_at", "mac")) == ledger

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(AuditEvent.objects.values_list("pk", "occurred_at", "mac")) == events
    assert set(Disclosure.objects.values_list("pk", "disclosed_at", "mac")) == ledger
    # Partitions from the oldest row's month on: each month's rows in their own partition.
    june, july = partition_name(LEDGER, at(2026, 6)), partition_name(LEDGER, at(2026, 7))
    assert rows_by_partition(LEDGER)[june] == rows_by_partition(LEDGER)[july] == 1
    assert rows_by_partition(AUDIT).get(f"{AUDIT}_default") is None
    assert verify()[1] == {"ok": True, "events": len(events)}


def test_every_partition_refuses_changes(transactional_db, as_user, supervisor, patient):
    now, unpartitioned = datetime.now(UTC), at(2024, 1)
    for moment in (now, unpartitioned):  # this month's partition, and the default
        read_patient_at(as_user(supervisor), patient, moment)
        disclose_at(patient, supervisor, moment)
    holding = set(rows_by_partition(AUDIT)) | set(rows_by_partition(LEDGER))
    assert holding == {
        partition_name(AUDIT, now),
        f"{AUDIT}_default",
        partition_name(LEDGER, now),
        f"{LEDGER}_default",
    }
    for table in (AUDIT, LEDGER, *sorted(holding)):
        for statement in (f"UPDATE {table} SET txid = txid", f"DELETE FROM {table}"):  # noqa: S608
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                connection.cursor().execute(statement)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(f"TRUNCATE {table}")
    # A partition made later refuses them too.
    create_partitions()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(f"TRUNCATE {partition_name(LEDGER, unpartitioned)}")


def test_the_command_is_safe_to_run_again(db):
    first = create_partitions(months=14)
    again = create_partitions(months=14)
    assert again["created"] == [] and again["moved_from_default"] == []
    # Fifteen months of each table exist, whichever run made them.
    with connection.cursor() as cursor:
        names = set(partitions_of(cursor, AUDIT)) | set(partitions_of(cursor, LEDGER))
    assert set(first["created"]) <= names
    now = datetime.now(UTC)
    month_index = now.year * 12 + now.month - 1
    for offset in range(15):
        year, month = divmod(month_index + offset, 12)
        for table in TABLES:
            assert partition_name(table, datetime(year, month + 1, 1, tzinfo=UTC)) in names


def test_a_row_of_a_month_without_a_partition_lands_in_default_and_still_verifies(
    transactional_db, as_user, supervisor, patient
):
    moment = at(2025, 2)
    read_patient_at(as_user(supervisor), patient, moment)
    disclosure = disclose_at(patient, supervisor, moment)
    assert rows_by_partition(AUDIT)[f"{AUDIT}_default"] >= 2  # the read and the disclosure
    assert rows_by_partition(LEDGER) == {f"{LEDGER}_default": 1}
    count = AuditEvent.objects.count()
    assert verify() == (0, {"ok": True, "events": count})
    api = as_user(supervisor)
    listed = api.get(f"/api/v1/disclosures/{disclosure.pk}/")
    assert listed.status_code == 200 and listed.json()["id"] == str(disclosure.pk)
    event = AuditEvent.objects.filter(occurred_at=moment, action="read").get()
    read = api.get(f"/api/v1/audit-events/{event.pk}/")
    assert read.status_code == 200 and read.json()["occurred_at"].startswith("2025-02-15")

    # The next run gives February 2025 its partition and moves the rows there, sealed as before.
    made = create_partitions()
    assert {"partition": partition_name(LEDGER, moment), "rows": 1} in made["moved_from_default"]
    assert made["default_rows"] == {AUDIT: 0, LEDGER: 0}
    assert rows_by_partition(LEDGER) == {partition_name(LEDGER, moment): 1}
    assert verify() == (0, {"ok": True, "events": AuditEvent.objects.count()})


def test_the_chain_verifies_across_months_and_names_a_row_removed_from_one(
    transactional_db, as_user, supervisor, patient
):
    api = as_user(supervisor)
    activity_in(api, patient, supervisor, 2026, (9, 10, 11))
    create_partitions()
    read_patient_at(api, patient, datetime.now(UTC))
    holding = {name for name in rows_by_partition(AUDIT) if not name.endswith("_default")}
    assert {partition_name(AUDIT, at(2026, m)) for m in (9, 10, 11)} <= holding
    assert verify() == (0, {"ok": True, "events": AuditEvent.objects.count()})

    october = AuditEvent.objects.filter(
        occurred_at__gte=at(2026, 10, 1), occurred_at__lt=at(2026, 11, 1), patient=patient
    ).first()
    with transaction.atomic():
        as_superuser(
            f"DELETE FROM {partition_name(AUDIT, october.occurred_at)} WHERE id = %s",  # noqa: S608
            [october.pk],
        )
    code, result = verify()
    assert code == 1
    assert {"kind": "auditevent", "id": str(october.pk), "problem": "deleted"} in result["broken"]


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def pruned_plan(queries, table: str, column: str) -> str:
    """The plan of the one query that read `table` bounded by `column`."""
    (sql,) = [
        q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and f'"{column}" >=' in q["sql"]
    ]
    return plan_of(sql)


def test_month_bounded_reads_touch_only_their_month(transactional_db, as_user, supervisor, patient):
    api = as_user(supervisor)
    activity_in(api, patient, supervisor, 2025, (4, 5, 6))
    create_partitions()
    bounds = {"after": "2025-05-01T00:00:00Z", "before": "2025-06-01T00:00:00Z"}

    with CaptureQueriesContext(connection) as queries:
        response = api.get(
            "/api/v1/audit-events/",
            {"occurred_after": bounds["after"], "occurred_before": bounds["before"]},
        )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results and all(row["occurred_at"].startswith("2025-05") for row in results)
    plan = pruned_plan(queries, AUDIT, "occurred_at")
    assert partition_name(AUDIT, at(2025, 5)) in plan
    for other in (at(2025, 4), at(2025, 6)):
        assert partition_name(AUDIT, other) not in plan
    assert f"{AUDIT}_default" not in plan

    with CaptureQueriesContext(connection) as queries:
        response = api.get(
            "/api/v1/disclosures/",
            {"disclosed_after": bounds["after"], "disclosed_before": bounds["before"]},
        )
    assert response.status_code == 200
    assert [row["disclosed_at"][:7] for row in response.json()["results"]] == ["2025-05"]
    plan = pruned_plan(queries, LEDGER, "disclosed_at")
    assert partition_name(LEDGER, at(2025, 5)) in plan
    assert partition_name(LEDGER, at(2025, 4)) not in plan
    accounting = api.get(f"/api/v1/patients/{patient.pk}/disclosures/")
    assert accounting.status_code == 200 and len(accounting.json()["results"]) == 3


def test_celery_beat_makes_partitions_ahead_each_month(db, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["make-audit-partitions"]
    assert schedule["task"] == "caseload.tasks.audit_partitions_ahead"
    assert schedule["schedule"].day_of_month == {1}
    tasks.audit_partitions_ahead.apply().get()
    assert tasks.audit_partitions_ahead.apply().get() == 0  # nothing left to make
