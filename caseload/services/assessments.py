"""Withdrawal assessments, scored by the server from the raw answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from caseload import instruments
from caseload.errors import InvalidInput
from caseload.models import Assessment, Patient, Staff

from .alerts import alert_raise_for
from .records import record_create


def assessment_item_problems(*, instrument: str, items: Any) -> list[tuple[str, str, str]]:
    """(field, code, message) for every problem with the answers; empty when they score."""
    try:
        instruments.score(instrument, items)
    except instruments.ItemsError as exc:
        return _problems(exc)
    return []


def _problems(exc: instruments.ItemsError) -> list[tuple[str, str, str]]:
    return [
        (_field(key), code, message)
        for key, problems in exc.errors.items()
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
        problems = _problems(exc)
        raise InvalidInput(problems[0][2], code=problems[0][1], errors=problems) from exc
    with transaction.atomic():
        assessment = record_create(
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
        alert_raise_for(assessment=assessment)
    return assessment
