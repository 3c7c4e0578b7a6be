"""Urine drug screens with a result per substance."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from caseload.errors import InvalidInput
from caseload.models import DrugScreen, DrugScreenResult, Patient, Staff

from .records import record_create


def drug_screen_record(
    *,
    patient: Patient,
    actor: Staff,
    collected_at: datetime,
    method: str,
    results: list[dict[str, str]],
) -> DrugScreen:
    """Record one screen and all its results together, or nothing."""
    substances = [row["substance"] for row in results]
    if not substances:
        raise InvalidInput(
            "Record at least one substance result.", field="results", code="required"
        )
    if len(set(substances)) != len(substances):
        raise InvalidInput("Each substance may appear once.", field="results", code="duplicate")
    with transaction.atomic():
        screen = record_create(
            model=DrugScreen,
            actor=actor,
            patient=patient,
            collected_at=collected_at,
            collected_by=actor,
            method=method,
            audit_detail={"results": len(results)},
        )
        bulk_create_with_history(
            [
                DrugScreenResult(screen=screen, substance=row["substance"], result=row["result"])
                for row in results
            ],
            DrugScreenResult,
            default_user=actor,
        )
    return screen
