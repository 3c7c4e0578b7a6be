"""Withdrawal assessments, scored by the server from the raw answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caseload import instruments
from caseload.errors import InvalidInput
from caseload.models import Assessment, Patient, Staff

from .records import record_create


class AssessmentItemsInvalid(InvalidInput):
    """Carries every failing item so the API can name each one."""

    def __init__(self, errors: dict[str, list[tuple[str, str]]]):
        field, ((code, message), *_) = next(iter(errors.items()))
        super().__init__(message, code=code, field=_field(field))
        self.errors = errors

    def field_errors(self) -> list[tuple[str, str, str]]:
        return [
            (_field(key), code, message)
            for key, problems in self.errors.items()
            for code, message in problems
        ]


def _field(key: str) -> str:
    return "items" if key == instruments.ITEMS_KEY else f"items.{key}"


def assessment_record(
    *, patient: Patient, actor: Staff, instrument: str, items: Any, administered_at: datetime
) -> Assessment:
    """Score the answers and store them with the result, instrument version and bands used."""
    try:
        score = instruments.score(instrument, items)
    except instruments.ItemsError as exc:
        raise AssessmentItemsInvalid(exc.errors) from exc
    return record_create(
        model=Assessment,
        actor=actor,
        patient=patient,
        instrument=instrument,
        items=items,
        administered_at=administered_at,
        administered_by=actor,
        instrument_version=score.instrument_version,
        total_score=score.total_score,
        severity=score.severity or "",
        criteria_met=score.criteria_met,
        meets_withdrawal_criteria=score.meets_withdrawal_criteria,
        bands=list(score.bands),
        bands_label=score.bands_label,
    )
