"""Everything recorded about one patient, newest first, each record with its change history.

The query count is fixed by the number of record types, never by the length of the history:
one query for whether the user may open the patient, then one for each type's records and one
for each type's historical rows.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import models
from django.utils import timezone

from caseload.models import (
    Appointment,
    Assessment,
    CaseNote,
    DrugScreen,
    Enrollment,
    MedicationRecord,
    Patient,
    Placement,
    Referral,
    Staff,
    TreatmentPlan,
)
from caseload.permissions import patient_records_visible_to


@dataclass(frozen=True)
class HistoryKind:
    name: str
    model: type[models.Model]
    at_field: str
    related: tuple[str, ...] = ()


KINDS: tuple[HistoryKind, ...] = (
    HistoryKind("enrollment", Enrollment, "admitted_on"),
    HistoryKind("assessment", Assessment, "administered_at"),
    HistoryKind("medication", MedicationRecord, "start_date"),
    HistoryKind("drug_screen", DrugScreen, "collected_at", related=("results",)),
    HistoryKind("referral", Referral, "referred_on"),
    HistoryKind("appointment", Appointment, "start"),
    HistoryKind("note", CaseNote, "written_at"),
    HistoryKind("placement", Placement, "assessed_at"),
    HistoryKind("treatment_plan", TreatmentPlan, "starts_on"),
)


@dataclass
class HistoryEntry:
    kind: str
    at: datetime
    record: models.Model
    changes: list[dict[str, Any]] = field(default_factory=list)


def patient_history(*, user: Staff, patient: Patient) -> list[HistoryEntry]:
    """The patient's records the user may read, newest first, with who changed what and when."""
    entries: list[HistoryEntry] = []
    scoped = patient_records_visible_to(user, patient, (kind.model for kind in KINDS))
    for kind in KINDS:
        records = list(scoped[kind.model].prefetch_related(*kind.related))
        changes = _changes_by_record(type(records[0]), records) if records else {}
        entries.extend(
            HistoryEntry(kind.name, _as_datetime(getattr(r, kind.at_field)), r, changes[r.pk])
            for r in records
        )
    entries.sort(key=lambda entry: (entry.at, entry.record.created_at), reverse=True)
    return entries


def _changes_by_record(model: type[models.Model], records: list) -> dict[Any, list[dict]]:
    historical = _historical_model(model)
    rows = historical._default_manager.filter(id__in=[r.pk for r in records]).order_by(
        "id", "history_date"
    )
    grouped: dict[Any, list] = defaultdict(list)
    for row in rows:
        grouped[row.id].append(row)
    return {record_id: _describe(versions) for record_id, versions in grouped.items()} | {
        r.pk: [] for r in records if r.pk not in grouped
    }


# Changes the history does not name: every save moves them.
_UNNAMED = frozenset({"version", "updated_at", "updated_by"})


@functools.cache
def _historical_model(model: type[models.Model]) -> type[models.Model]:
    """The model's historical rows model. `Model.history` builds a new manager class on every
    access (simple_history's descriptor), which cost more than the query it runs."""
    return model.history.model


@functools.cache
def _diffed_fields(historical: type[models.Model]) -> tuple[models.Field, ...] | None:
    """The fields `diff_against` compares (tracked, editable, not many-to-many), less the ones
    the history does not name; None when the model has many-to-many history (diff it the slow
    way)."""
    if historical._history_m2m_fields or historical._meta.private_fields:
        return None
    names = {f.name for f in historical.tracked_fields if f.editable} - _UNNAMED
    return tuple(f for f in historical._meta.concrete_fields if f.editable and f.name in names)


def _changed_fields(previous, current) -> list[str]:
    """What changed from one version to the next, by field name, sorted: `diff_against`'s
    answer read straight off the two rows' column values."""
    fields = _diffed_fields(type(current))
    if fields is None:
        return sorted(
            c.field for c in current.diff_against(previous).changes if c.field not in _UNNAMED
        )
    return sorted(
        f.name for f in fields if f.value_from_object(previous) != f.value_from_object(current)
    )


def _describe(versions: list) -> list[dict[str, Any]]:
    described = []
    for previous, current in zip([None, *versions], versions, strict=False):
        described.append(
            {
                "at": current.history_date,
                "by": current.history_user_id,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[current.history_type],
                "fields": _changed_fields(previous, current) if previous is not None else [],
            }
        )
    return list(reversed(described))


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())
