"""Everything recorded about one patient, newest first, each record with its change history.

The query count is fixed by the number of record types, never by the length of the history:
one query for whether the user may open the patient, one for each type's records, and one for
every version of them all (a UNION ALL over the types' history tables).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import JSONObject
from django.utils import timezone

from caseload import models as clinical
from caseload.models import Patient, Staff
from caseload.permissions import patient_records_visible_to


@dataclass(frozen=True)
class HistoryKind:
    name: str
    model: type[models.Model]
    at_field: str
    related: tuple[str, ...] = ()


KINDS: tuple[HistoryKind, ...] = (
    HistoryKind("enrollment", clinical.Enrollment, "admitted_on"),
    HistoryKind("assessment", clinical.Assessment, "administered_at"),
    HistoryKind("medication", clinical.MedicationRecord, "start_date"),
    HistoryKind("drug_screen", clinical.DrugScreen, "collected_at", related=("results",)),
    HistoryKind("referral", clinical.Referral, "referred_on"),
    HistoryKind("appointment", clinical.Appointment, "start"),
    HistoryKind("note", clinical.CaseNote, "written_at"),
    HistoryKind("placement", clinical.Placement, "assessed_at"),
    HistoryKind("treatment_plan", clinical.TreatmentPlan, "starts_on"),
)


@dataclass
class HistoryEntry:
    kind: str
    at: datetime
    record: models.Model
    changes: list[dict[str, Any]] = field(default_factory=list)


def history_scope(*, user: Staff, patient: Patient) -> dict:
    """Each record type's query of the patient's records the user may read (whether they may
    open the patient is asked here, once): share it between `patient_history_state` and
    `patient_history` when a request reads both."""
    return patient_records_visible_to(user, patient, (kind.model for kind in KINDS))


def patient_history(
    *, user: Staff, patient: Patient, scope: dict | None = None
) -> list[HistoryEntry]:
    """The patient's records the user may read, newest first, with who changed what and when."""
    scoped = scope or history_scope(user=user, patient=patient)
    found = [(kind, list(scoped[kind.model].prefetch_related(*kind.related))) for kind in KINDS]
    changes = _changes([(kind, records) for kind, records in found if records])
    entries = [
        HistoryEntry(
            kind.name,
            _as_datetime(getattr(record, kind.at_field)),
            record,
            changes.get((kind.name, record.pk), []),
        )
        for kind, records in found
        for record in records
    ]
    entries.sort(key=lambda entry: (entry.at, entry.record.created_at), reverse=True)
    return entries


def patient_history_state(
    *, user: Staff, patient: Patient, scope: dict | None = None
) -> list[tuple]:
    """What decides the body of `patient_history` for this user, read narrowly: (kind, id,
    version) of every record the user may read (one UNION ALL over the record types), and
    each drug screen's results (one query). Every change to a record moves its version and
    writes its history row; a record added or no longer visible changes the membership; the
    results are the only related rows a record shows and carry no version of their own."""
    scoped = scope or history_scope(user=user, patient=patient)
    first, *rest = [
        scoped[kind.model]
        .order_by()
        .annotate(history_kind=Value(kind.name, output_field=models.CharField()))
        .values_list("history_kind", "pk", "version")
        for kind in KINDS
    ]
    records = sorted(first.union(*rest, all=True), key=repr)
    screens = scoped[clinical.DrugScreen].order_by().values("pk")
    results = clinical.DrugScreenResult.objects.filter(screen__in=screens).order_by()
    rows = results.values_list("screen_id", "pk", "substance", "result")
    return records + sorted(rows, key=repr)


def _changes(found: list[tuple[HistoryKind, list]]) -> dict[tuple[str, Any], list[dict]]:
    """Every version of every record found, in one query over the record types' history
    tables (UNION ALL), described as changes: (kind, record id) -> changes, newest first."""
    if not found:
        return {}
    first, *rest = [_versions(kind, records) for kind, records in found]
    rows = first.union(*rest, all=True) if rest else first
    grouped: dict[tuple[str, Any], list] = defaultdict(list)
    for kind, record_id, *version in sorted(rows, key=lambda row: (row[0], row[1], row[2])):
        grouped[(kind, record_id)].append(version)
    return {key: _describe(versions) for key, versions in grouped.items()}


def _versions(kind: HistoryKind, records: list) -> models.QuerySet:
    """(kind, id, when, by, type, the named fields' values) of each version of the records."""
    historical = _historical_model(kind.model)
    named = {f.name: F(f.attname) for f in _diffed_fields(historical)}
    return (
        historical._default_manager.filter(id__in=[r.pk for r in records])
        .order_by()
        .annotate(
            history_kind=Value(kind.name, output_field=models.CharField()),
            named=JSONObject(**named),
        )
        .values_list(
            "history_kind", "id", "history_date", "history_user_id", "history_type", "named"
        )
    )


# Changes the history does not name: every save moves them.
_UNNAMED = frozenset({"version", "updated_at", "updated_by"})


@functools.cache
def _historical_model(model: type[models.Model]) -> type[models.Model]:
    """The model's historical rows model. `Model.history` builds a new manager class on every
    access (simple_history's descriptor), which cost more than the query it runs."""
    return model.history.model


@functools.cache
def _diffed_fields(historical: type[models.Model]) -> tuple[models.Field, ...]:
    """The fields `diff_against` compares (tracked, editable, not many-to-many), less the ones
    the history does not name."""
    if historical._history_m2m_fields or historical._meta.private_fields:
        raise TypeError(f"{historical.__name__}: many-to-many history is not described")
    names = {f.name for f in historical.tracked_fields if f.editable} - _UNNAMED
    return tuple(f for f in historical._meta.concrete_fields if f.editable and f.name in names)


def _describe(versions: list) -> list[dict[str, Any]]:
    """Oldest-first versions (when, by, type, values) as changes, newest first."""
    described = []
    before: dict | None = None
    for at, by, kind, values in versions:
        changed = [] if before is None else [k for k, v in values.items() if before.get(k) != v]
        described.append(
            {
                "at": at,
                "by": by,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[kind],
                "fields": sorted(changed),
            }
        )
        before = values
    return list(reversed(described))


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())
