"""Writes to patients."""

from __future__ import annotations

from typing import Any

from caseload.errors import Forbidden, InvalidInput
from caseload.models import Patient, Staff
from caseload.permissions import patient_fields_barred

from .records import ExpectedVersion, record_create, record_update


def patient_create(*, actor: Staff, fields: dict[str, Any]) -> Patient:
    """Register a patient in the actor's program."""
    _check_mrn_free(program_id=actor.program_id, mrn=fields["mrn"])
    return record_create(model=Patient, actor=actor, program_id=actor.program_id, **fields)


def patient_update(
    *, patient: Patient, actor: Staff, changes: dict[str, Any], expected_version: ExpectedVersion
) -> Patient:
    """Change a patient's details; front desk may change contact details only.

    The MRN check runs on the locked row after the version check, so a stale `If-Match` answers
    412 whatever MRN was sent; only supervisors (who see every patient of the program) may
    change an MRN at all, so a collision never reveals a patient the caller cannot see.
    """
    changed = {name for name, value in changes.items() if getattr(patient, name) != value}
    refused = patient_fields_barred(actor, changed)
    if refused:
        raise Forbidden(
            f"Your role may not change: {', '.join(sorted(refused))}.",
            field=sorted(refused)[0],
        )

    def guard(current: Patient) -> None:
        if "mrn" in changes and changes["mrn"] != current.mrn:
            _check_mrn_free(program_id=current.program_id, mrn=changes["mrn"])

    return record_update(
        instance=patient,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=guard,
    )


def _check_mrn_free(*, program_id, mrn: str) -> None:
    if Patient.objects.filter(program_id=program_id, mrn=mrn).exists():
        raise InvalidInput(
            "A patient with this MRN exists in the program.", code="unique", field="mrn"
        )
