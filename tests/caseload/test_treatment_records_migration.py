"""The migration to coded discharge reasons and consent to treatment keeps what was recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("caseload", "0017_stable_list_order")]
AFTER = [("caseload", "0018_treatment_records")]


@pytest.fixture
def old_apps(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_free_text_reasons_become_other_and_active_episodes_get_a_consent_date(old_apps):
    Program = old_apps.get_model("caseload", "Program")
    Staff = old_apps.get_model("caseload", "Staff")
    Patient = old_apps.get_model("caseload", "Patient")
    Enrollment = old_apps.get_model("caseload", "Enrollment")
    History = old_apps.get_model("caseload", "HistoricalEnrollment")
    program = Program.objects.create(code="migr", name="Migration (test)")
    counselor = Staff.objects.create(username="migr-counselor", program=program, role="counselor")

    def episode(mrn: str, **fields):
        patient = Patient.objects.create(
            program=program, mrn=mrn, given_name="Sam", family_name="Synthetic",
            birth_date=date(1990, 1, 1),
        )  # fmt: skip
        row = Enrollment.objects.create(
            patient=patient, counselor=counselor, level_of_care="outpatient",
            admitted_on=date(2026, 3, 2), **fields,
        )  # fmt: skip
        History.objects.create(
            id=row.id, patient=patient, counselor=counselor, level_of_care="outpatient",
            admitted_on=row.admitted_on, status=row.status, discharged_on=row.discharged_on,
            discharge_reason=row.discharge_reason, created_at=row.created_at,
            updated_at=row.updated_at, version=1, history_date=datetime.now(UTC),
            history_type="+", history_id=uuid.uuid4().int % 2**31,
        )  # fmt: skip
        return row.pk

    moved = episode(
        "M1",
        status="discharged",
        discharged_on=date(2026, 4, 1),
        discharge_reason="Moved out of state; " + "x" * 480,
    )
    silent = episode("M2", status="discharged", discharged_on=date(2026, 4, 1))
    active = episode("M3", status="active")
    intake = episode("M4", status="intake")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new_apps = executor.loader.project_state(AFTER).apps
    Enrollment = new_apps.get_model("caseload", "Enrollment")
    History = new_apps.get_model("caseload", "HistoricalEnrollment")

    row = Enrollment.objects.get(pk=moved)
    assert row.discharge_reason == "other"
    assert row.discharge_reason_detail == "Moved out of state; " + "x" * 480
    assert History.objects.get(id=moved).discharge_reason_detail.startswith("Moved out")
    assert Enrollment.objects.get(pk=silent).discharge_reason == "other"
    assert Enrollment.objects.get(pk=active).treatment_consent_signed_at == datetime(
        2026, 3, 2, tzinfo=UTC
    )
    assert Enrollment.objects.get(pk=intake).treatment_consent_signed_at is None
    assert Enrollment.objects.get(pk=intake).discharge_reason == ""
