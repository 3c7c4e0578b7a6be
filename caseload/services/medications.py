"""Medication records. Recorded as the prescriber ordered; no dose is ever checked or computed."""

from __future__ import annotations

from typing import Any

from caseload.errors import Forbidden, InvalidInput
from caseload.models import Enrollment, MedicationRecord, Patient, Role, Staff

from .records import ExpectedVersion, record_create, record_update


def medication_record(
    *, patient: Patient, actor: Staff, fields: dict[str, Any]
) -> MedicationRecord:
    """Record an order under the name of the prescriber who gave it.

    A prescriber records only their own orders; a supervisor may transcribe an order for any
    prescriber of the program. The prescriber need not be on the patient's care team (a
    covering prescriber); such an order is flagged in its audit row.
    """
    fields = dict(fields)
    prescriber = fields.pop("prescriber", None) or (
        actor if getattr(actor, "role", None) == Role.PRESCRIBER else None
    )
    _check_prescriber(patient, prescriber, actor)
    _check_dates(fields.get("start_date"), fields.get("end_date"))
    covering = not Enrollment.objects.filter(patient=patient, prescriber=prescriber).exists()
    return record_create(
        model=MedicationRecord,
        actor=actor,
        patient=patient,
        prescriber=prescriber,
        audit_detail={"covering_prescriber": True} if covering else None,
        **fields,
    )


def medication_update(
    *,
    record: MedicationRecord,
    actor: Staff,
    changes: dict[str, Any],
    expected_version: ExpectedVersion,
) -> MedicationRecord:
    """Change an order; a prescriber changes only orders given in their own name."""
    _check_own_order(record.prescriber, actor)
    if "prescriber" in changes:
        _check_prescriber(record.patient, changes["prescriber"], actor)
    _check_dates(
        changes.get("start_date", record.start_date), changes.get("end_date", record.end_date)
    )
    return record_update(
        instance=record, actor=actor, changes=changes, expected_version=expected_version
    )


def _check_prescriber(patient: Patient, prescriber: Staff | None, actor: Staff) -> None:
    if prescriber is None:
        raise InvalidInput(
            "Name the prescriber who ordered it.", field="prescriber", code="required"
        )
    if (
        prescriber.program_id != patient.program_id
        or prescriber.role != Role.PRESCRIBER
        or not prescriber.is_active
    ):
        raise InvalidInput(
            "The prescriber must be a prescriber of this program.",
            field="prescriber",
            code="wrong_role",
        )
    _check_own_order(prescriber, actor)


def _check_own_order(prescriber: Staff | None, actor: Staff) -> None:
    """An order never appears under the name of a prescriber who did not give it."""
    if getattr(actor, "role", None) == Role.PRESCRIBER and prescriber != actor:
        raise Forbidden(
            "A prescriber records and changes only orders given in their own name.",
            field="prescriber",
        )


def _check_dates(start, end) -> None:
    if start and end and end < start:
        raise InvalidInput(
            "end_date is before start_date.", field="end_date", code="end_before_start"
        )
