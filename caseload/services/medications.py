"""Medication records. Recorded as the prescriber ordered; no dose is ever checked or computed."""

from __future__ import annotations

from typing import Any

from caseload.errors import InvalidInput
from caseload.models import MedicationRecord, Patient, Role, Staff

from .records import record_create, record_update


def medication_record(
    *, patient: Patient, actor: Staff, fields: dict[str, Any]
) -> MedicationRecord:
    fields = dict(fields)
    prescriber = fields.pop("prescriber", None) or (
        actor if actor.role == Role.PRESCRIBER else None
    )
    _check_prescriber(patient, prescriber)
    _check_dates(fields.get("start_date"), fields.get("end_date"))
    return record_create(
        model=MedicationRecord, actor=actor, patient=patient, prescriber=prescriber, **fields
    )


def medication_update(
    *,
    record: MedicationRecord,
    actor: Staff,
    changes: dict[str, Any],
    expected_version: int | None,
) -> MedicationRecord:
    if "prescriber" in changes:
        _check_prescriber(record.patient, changes["prescriber"])
    _check_dates(
        changes.get("start_date", record.start_date), changes.get("end_date", record.end_date)
    )
    return record_update(
        instance=record, actor=actor, changes=changes, expected_version=expected_version
    )


def _check_prescriber(patient: Patient, prescriber: Staff | None) -> None:
    if prescriber is None:
        raise InvalidInput(
            "Name the prescriber who ordered it.", field="prescriber", code="required"
        )
    if prescriber.program_id != patient.program_id or prescriber.role != Role.PRESCRIBER:
        raise InvalidInput(
            "The prescriber must be a prescriber of this program.",
            field="prescriber",
            code="wrong_role",
        )


def _check_dates(start, end) -> None:
    if start and end and end < start:
        raise InvalidInput(
            "end_date is before start_date.", field="end_date", code="end_before_start"
        )
