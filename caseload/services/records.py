"""The one way a record is created or changed: atomic, versioned and audited."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import F

from caseload.dates import require_valid_dates
from caseload.errors import Conflict, InvalidInput, PreconditionFailed
from caseload.feed import feed_stamp
from caseload.models import (
    Assessment,
    AuditAction,
    CorrectableRecord,
    FeedRecord,
    RecordStatus,
)
from caseload.permissions import ADD, CHANGE, patient_of, require_may, staff_or_none

from .alerts import alerts_close_for_correction
from .audit import audit_record

M = TypeVar("M", bound=models.Model)
# What an `If-Match` asked for: None (no precondition, or `*`), or the versions any of whose
# ETags the client listed. An empty set matches nothing, so the write answers 412.
ExpectedVersion = int | Collection[int] | None
# A state rule checked on the locked, current row; raises a DomainError to refuse the write.
Guard = Callable[[Any], None]


def record_create(*, model: type[M], actor, audit_detail: dict | None = None, **fields: Any) -> M:
    """Insert one record with its authorship and audit row in the caller's transaction.

    The policy decides first: the actor's role (or grants) must allow adding this kind of
    record, for a patient they may write to (caseload/permissions.py, `require_may`).
    """
    require_may(actor, ADD, model, patient=fields.get("patient"))
    require_valid_dates(model, fields)
    _refuse_correction_by_write(fields)
    instance = model(created_by=staff_or_none(actor), updated_by=staff_or_none(actor), **fields)
    _attribute_history(instance, actor)
    try:
        with transaction.atomic():
            _stamp(instance)
            instance.save(force_insert=True)
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=instance,
                patient=patient_of(instance),
                detail=audit_detail,
            )
    except IntegrityError as exc:
        raise _conflict(exc) from exc
    return instance


def record_update(
    *,
    instance: M,
    actor,
    changes: dict[str, Any],
    expected_version: ExpectedVersion = None,
    action: str = AuditAction.UPDATE,
    guard: Guard | None = None,
    audit_detail: dict[str, Any] | None = None,
) -> M:
    """Apply `changes` to `instance`, failing with 412 if its version moved on.

    The version check and bump happen in a single UPDATE ... WHERE version IN (...), so two
    concurrent writers cannot both pass it, and the row then stays locked until commit. Every
    other rule (`guard`, the entered-in-error lock) runs after that, on the locked current row:
    a stale precondition answers 412 before any check that could depend on other rows, and two
    racing state changes cannot both see the state they start from.
    """
    model = type(instance)
    require_may(actor, CHANGE, instance)
    require_valid_dates(model, changes)
    if action != AuditAction.ENTERED_IN_ERROR:
        _refuse_correction_by_write(changes)
    try:
        with transaction.atomic():
            fresh = version_claim(model, instance.pk, expected_version)
            if isinstance(fresh, CorrectableRecord) and fresh.is_entered_in_error:
                raise Conflict(
                    "A record entered in error cannot be changed.",
                    code="entered_in_error",
                    field="status",
                )
            if guard is not None:
                guard(fresh)
            for name, value in changes.items():
                setattr(fresh, name, value)
            fresh.updated_by = staff_or_none(actor)
            _attribute_history(fresh, actor)
            _stamp(fresh)
            fresh.save()
            audit_record(
                actor=actor,
                action=action,
                obj=fresh,
                patient=patient_of(fresh),
                detail=_update_detail(action, changes) | (audit_detail or {}),
            )
    except IntegrityError as exc:
        raise _conflict(exc) from exc
    return fresh


def _update_detail(action: str, changes: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = {"fields": sorted(changes)}
    if action == AuditAction.TRANSITION and "status" in changes:
        detail["to"] = str(changes["status"])
    return detail


def require_status(current: models.Model, allowed: Collection[str], to: str) -> None:
    """A guard's status check: 409 `illegal_transition` unless `current` may move to `to`."""
    if current.status not in allowed:
        raise Conflict(
            f"This {current._meta.verbose_name} is {current.status}; it cannot become {to}.",
            code="illegal_transition",
            field="status",
        )


def _stamp(instance: models.Model) -> None:
    """A record the sync feed serves takes this transaction's change number (caseload/feed.py)."""
    if isinstance(instance, FeedRecord):
        instance.change_seq = feed_stamp()


def version_claim(model: type[M], pk, expected_version: ExpectedVersion) -> M:
    """Bump the row's version if it matches; return the locked, current row or raise 412."""
    claim = model._default_manager.filter(pk=pk)
    if expected_version is not None:
        versions = (
            {expected_version} if isinstance(expected_version, int) else set(expected_version)
        )
        claim = claim.filter(version__in=versions)
    if not claim.update(version=F("version") + 1):
        raise PreconditionFailed(
            "The record changed since it was read; fetch it again and retry.",
            code="stale_etag",
        )
    return model._default_manager.get(pk=pk)


def record_mark_entered_in_error(
    *, instance: M, actor, reason: str, expected_version: ExpectedVersion = None
) -> M:
    """Correct a clinical record by marking it entered in error. It stays in the history.

    The one way any `CorrectableRecord` is corrected; other records cannot be.

    The entered-in-error lock in `record_update` runs on the locked row, so of two racing
    corrections exactly one succeeds and the other answers 409. An assessment's open alerts
    close with it (or stand for a later finding) in the same transaction.
    """
    if not isinstance(instance, CorrectableRecord):
        raise TypeError(f"{type(instance).__name__} is not corrected by entered-in-error")
    with transaction.atomic():
        corrected = record_update(
            instance=instance,
            actor=actor,
            expected_version=expected_version,
            changes={"status": RecordStatus.ENTERED_IN_ERROR, "entered_in_error_reason": reason},
            action=AuditAction.ENTERED_IN_ERROR,
        )
        if isinstance(corrected, Assessment):
            alerts_close_for_correction(assessment=corrected, actor=actor, reason=reason)
    return corrected


def _refuse_correction_by_write(values: dict[str, Any]) -> None:
    """A record becomes entered-in-error only through `record_mark_entered_in_error`."""
    if values.get("status") == RecordStatus.ENTERED_IN_ERROR:
        raise InvalidInput(
            "Mark a record entered in error through its entered-in-error endpoint.",
            field="status",
            code="invalid_choice",
        )


def _attribute_history(instance: models.Model, actor) -> None:
    """Name the actor on the change-history row, inside or outside an HTTP request."""
    if getattr(actor, "pk", None):
        instance._history_user = actor


# A uniqueness rule the services check first can still be broken by a concurrent request; the
# database then refuses, and the field is named from the constraint (PostgreSQL names it,
# SQLite names the columns).
_CONSTRAINT_FIELDS = {
    "patient_mrn_unique_in_program": ("mrn", "unique"),
    "caseload_patient.mrn": ("mrn", "unique"),
    "enrollment_one_open_per_patient": ("patient", "open_enrollment_exists"),
    "caseload_enrollment.patient_id": ("patient", "open_enrollment_exists"),
}


def _conflict(exc: IntegrityError) -> Conflict:
    message = str(exc)
    for marker, (field, code) in _CONSTRAINT_FIELDS.items():
        if marker in message:
            return Conflict("The record conflicts with an existing one.", code=code, field=field)
    return Conflict("The record conflicts with an existing one.", code="integrity_conflict")
