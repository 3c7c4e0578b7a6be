"""Tamper evidence: the audit tables refuse changes on PostgreSQL, and the row MACs and the keyed
seal chain name every row inserted, changed, replayed or removed around that refusal, by someone
with database access but not the application's key (CASELOAD_AUDIT_KEY)."""

from __future__ import annotations

import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from caseload import tasks
from caseload.models import AuditEvent, AuditPatientSet, AuditSeal, Disclosure
from caseload.services.audit_chain import audit_seal
from caseload.services.disclosures import ledger_disclosure
from tests.factories import PatientFactory

APPEND_ONLY_TABLES = (
    "caseload_auditevent",
    "caseload_auditpatientset",
    "caseload_auditseal",
    "caseload_auditsealrun",
    "caseload_disclosure",
)


def verify() -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def activity(as_user, supervisor, counselor, patient, other_patient):
    """Reads, a list page of several patients, a write and a refusal through HTTP; a disclosure."""
    api = as_user(supervisor)
    assert api.get("/api/v1/patients/").status_code == 200  # a page of two: a patient set
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert api.patch(f"/api/v1/patients/{patient.pk}/", {"phone": "555-0100"}).status_code == 200
    assert as_user(counselor).get(f"/api/v1/patients/{other_patient.pk}/").status_code == 404
    lab_disclosure(patient, supervisor)
    return AuditEvent.objects.count()


def lab_disclosure(patient, actor, disclosed_at=None) -> Disclosure:
    """One ledger row: the patient's drug screens sent to a laboratory under a QSOA."""
    return ledger_disclosure(
        patients=[patient],
        recipient_name="Regional laboratory",
        purpose="Confirmatory testing",
        information=["drug_screens"],
        basis="qsoa",
        actor=actor,
        disclosed_at=disclosed_at,
    )[0]


def as_superuser(sql: str, params: list) -> None:
    """Change a row the way only someone around the application could: triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_an_untouched_log_verifies(activity):
    assert verify() == (0, {"ok": True, "events": activity})
    # Sealing is incremental: a second run finds nothing new, and the chain still holds.
    assert audit_seal() == 0
    assert verify() == (0, {"ok": True, "events": activity})


def test_every_row_is_sealed_once_in_order(activity):
    audit_seal()
    positions = list(AuditSeal.objects.values_list("position", flat=True))
    assert positions == list(range(1, len(positions) + 1))
    sealed = AuditSeal.objects.values_list("row_id", flat=True)
    assert set(sealed.filter(kind="auditevent")) == set(
        AuditEvent.objects.values_list("id", flat=True)
    )
    assert set(sealed.filter(kind="disclosure")) == set(
        Disclosure.objects.values_list("id", flat=True)
    )
    assert len(positions) == activity + Disclosure.objects.count()


def test_a_changed_event_is_named(activity, counselor):
    audit_seal()
    refused = AuditEvent.objects.get(actor=counselor, outcome="denied")
    as_superuser(
        "UPDATE caseload_auditevent SET outcome = 'allowed', status_code = 200 WHERE id = %s",
        [refused.pk.hex if connection.vendor == "sqlite" else refused.pk],
    )
    code, result = verify()
    assert code == 1
    assert result == {
        "ok": False,
        "events": activity,
        "first_broken": str(refused.pk),
        "broken": [{"kind": "auditevent", "id": str(refused.pk), "problem": "changed"}],
    }


def test_a_removed_event_is_named(activity, supervisor):
    audit_seal()
    read = AuditEvent.objects.get(actor=supervisor, action="read", resource_type="patient")
    as_superuser(
        "DELETE FROM caseload_auditevent WHERE id = %s",
        [read.pk.hex if connection.vendor == "sqlite" else read.pk],
    )
    code, result = verify()
    assert (code, result["ok"], result["first_broken"]) == (1, False, str(read.pk))


def test_a_patient_slipped_out_of_a_list_page_is_named(activity, supervisor, patient):
    audit_seal()
    page = AuditEvent.objects.get(actor=supervisor, action="list", patient_set__isnull=False)
    remaining = [i for i in page.patient_set.patients if i != patient.pk]
    as_superuser(
        "UPDATE caseload_auditpatientset SET patients = %s WHERE id = %s",
        [
            json.dumps([str(i) for i in remaining]) if connection.vendor == "sqlite" else remaining,
            page.patient_set_id,
        ],
    )
    assert AuditPatientSet.objects.get(pk=page.patient_set_id).patients == remaining
    code, result = verify()
    assert (code, result["first_broken"]) == (1, str(page.pk))


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}", "TRUNCATE {table} CASCADE"],
)
def test_the_database_refuses_to_change_audit_rows(activity, table, statement):
    audit_seal()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s LIMIT 1",
            [table],
        )
        column = cursor.fetchone()[0]
        # The test's own inserts leave deferred foreign-key checks pending, which TRUNCATE would
        # refuse on their own account; run them now so the trigger is what answers.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement.format(table=table, column=column))
    assert verify() == (0, {"ok": True, "events": activity})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_whose_transaction_commits_late_is_sealed_after_it_commits(supervisor):
    """A long write transaction holds an event while the sealer runs: the sealer leaves it
    (and everything after the oldest running transaction) for the next run, never skips it."""
    inserted, release = threading.Event(), threading.Event()

    def slow_write():
        try:
            with transaction.atomic():
                PatientFactory(actor=supervisor)  # writes its `create` event
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_write)
    writer.start()
    assert inserted.wait(10)
    quick = PatientFactory(actor=supervisor)  # commits while the slow write is still open
    audit_seal()
    visible = AuditEvent.objects.count()
    # everything committed so far is sealed
    assert AuditSeal.objects.filter(kind="auditevent").count() == visible
    release.set()
    writer.join()
    slow = AuditEvent.objects.exclude(
        id__in=AuditSeal.objects.values("row_id")
    ).get()  # the late event, visible now and not sealed yet
    assert slow.resource_type == "patient" and slow.resource_id != str(quick.pk)
    assert AuditEvent.objects.count() == visible + 1
    audit_seal()
    assert AuditSeal.objects.get(row_id=slow.pk).position == visible + 1
    assert verify() == (0, {"ok": True, "events": visible + 1})


def test_celery_beat_seals_the_log_every_minute(activity, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["seal-audit-events"]
    assert (schedule["task"], schedule["schedule"].total_seconds()) == (
        "caseload.tasks.audit_seal",
        60,
    )
    # The task takes no arguments; it seals the events and the one ledger row.
    assert tasks.audit_seal.apply().get() == activity + 1
    assert tasks.audit_seal.apply().get() == 0
