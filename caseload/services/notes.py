"""Counselors' case notes."""

from __future__ import annotations

from typing import Any

from caseload.models import CaseNote, Patient, Staff

from .records import record_create, record_update


def note_create(*, actor: Staff, patient: Patient, fields: dict[str, Any]) -> CaseNote:
    return record_create(model=CaseNote, actor=actor, patient=patient, author=actor, **fields)


def note_update(
    *, note: CaseNote, actor: Staff, changes: dict[str, Any], expected_version: int | None
) -> CaseNote:
    return record_update(
        instance=note, actor=actor, changes=changes, expected_version=expected_version
    )
