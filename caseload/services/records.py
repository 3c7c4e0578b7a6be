"""The one way a record is created or changed: atomic, versioned and audited."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import F

from caseload.errors import Conflict, PreconditionFailed
from caseload.models import Patient, RecordStatus

from .audit import audit_record

M = TypeVar("M", bound=models.Model)


def _patient_of(instance: models.Model) -> Patient | None:
    return instance if isinstance(instance, Patient) else getattr(instance, "patient", None)


def record_create(*, model: type[M], actor, audit_detail: dict | None = None, **fields: Any) -> M:
    """Insert one record with its authorship and audit row in the caller's transaction."""
    instance = model(created_by=actor, updated_by=actor, **fields)
    _attribute_history(instance, actor)
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
            audit_record(
                actor=actor,
                action="create",
                obj=instance,
                patient=_patient_of(instance),
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
    expected_version: int | None = None,
    action: str = "update",
) -> M:
    """Apply `changes` to `instance`, failing with 412 if its version moved on.

    The version check and bump happen in a single UPDATE ... WHERE version = %s, so two
    concurrent writers cannot both pass it; the row then stays locked until commit.
    """
    model = type(instance)
    try:
        with transaction.atomic():
            claim = model._default_manager.filter(pk=instance.pk)
            if expected_version is not None:
                claim = claim.filter(version=expected_version)
            if not claim.update(version=F("version") + 1):
                raise PreconditionFailed(
                    "The record changed since it was read; fetch it again and retry.",
                    code="stale_etag",
                )
            fresh = model._default_manager.get(pk=instance.pk)
            if getattr(fresh, "status", None) == RecordStatus.ENTERED_IN_ERROR:
                # Checked on the locked row, so a concurrent correction cannot be edited over.
                raise Conflict(
                    "A record entered in error cannot be changed.",
                    code="entered_in_error",
                    field="status",
                )
            for name, value in changes.items():
                setattr(fresh, name, value)
            fresh.updated_by = actor
            _attribute_history(fresh, actor)
            fresh.save()
            audit_record(
                actor=actor,
                action=action,
                obj=fresh,
                patient=_patient_of(fresh),
                detail={"fields": sorted(changes)},
            )
    except IntegrityError as exc:
        raise _conflict(exc) from exc
    return fresh


def record_mark_entered_in_error(
    *, instance: M, actor, reason: str, expected_version: int | None = None
) -> M:
    """Correct a clinical record by marking it entered in error. It stays in the history."""
    if instance.status == "entered_in_error":
        raise Conflict(
            "The record is already marked entered in error.",
            code="already_entered_in_error",
            field="status",
        )
    return record_update(
        instance=instance,
        actor=actor,
        expected_version=expected_version,
        changes={"status": "entered_in_error", "entered_in_error_reason": reason},
        action="entered_in_error",
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
