"""Counselors' case notes."""

from __future__ import annotations

from typing import Any

from caseload.errors import Forbidden
from caseload.models import CaseNote, Patient, Staff

from .records import ExpectedVersion, record_create, record_update


def note_create(*, actor: Staff, patient: Patient, fields: dict[str, Any]) -> CaseNote:
    return record_create(model=CaseNote, actor=actor, patient=patient, author=actor, **fields)


def note_update(
    *, note: CaseNote, actor: Staff, changes: dict[str, Any], expected_version: ExpectedVersion
) -> CaseNote:
    """Only the author changes a note's words: a note never shows text under the name of
    someone who did not write it. Anyone who may change the record can still mark it entered
    in error, which keeps the author's text and records who corrected it."""
    if actor is None or note.author_id != actor.pk:
        raise Forbidden("Only the note's author may change it.", field="body")
    return record_update(
        instance=note, actor=actor, changes=changes, expected_version=expected_version
    )
