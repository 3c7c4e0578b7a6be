"""The audit trail: one append-only row per access to or change of protected information."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from caseload.models import AuditEvent, Patient, is_integration


def _object_type(obj: models.Model | type[models.Model]) -> str:
    return obj._meta.model_name


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    patient: Patient | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one action on one object. Call inside the transaction that makes the change."""
    program_id = getattr(patient, "program_id", None) or getattr(obj, "program_id", None)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        program_id=program_id or getattr(actor, "program_id", None),
        action=action,
        object_type=_object_type(obj),
        object_id=str(obj.pk),
        patient=patient,
        detail=detail or {},
    )


def audit_read(
    *, actor, model: type[models.Model], objects: Iterable[models.Model], action: str
) -> AuditEvent:
    """Record that `actor` read these objects (a list page or one record) in one row."""
    objects = list(objects)
    patient_ids = sorted({str(_patient_id(o)) for o in objects if _patient_id(o)})
    single = objects[0] if action == "read" and objects else None
    detail: dict[str, Any] = {"count": len(objects), "patients": patient_ids}
    if is_integration(actor):
        # An integration client is a principal of its own: no staff member is the actor.
        detail["client"] = str(actor.client.pk)
    return AuditEvent.objects.create(
        actor=None if is_integration(actor) else actor,
        program_id=actor.program_id,
        action=action,
        object_type=_object_type(model),
        object_id=str(single.pk) if single else "",
        patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
        detail=detail,
    )


def _patient_id(obj: models.Model):
    if isinstance(obj, Patient):
        return obj.pk
    return getattr(obj, "patient_id", None)


def audit_signin(
    *, action: str, username: str, staff=None, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Record a sign-in (`login`), a refused one (`login_failed`) or a `lockout` of a username.

    `staff` is the account with that username when there is one: the event then belongs to its
    program. Only a successful sign-in names it as the actor; a failure's actor is unknown.
    """
    return AuditEvent.objects.create(
        actor=staff if action == "login" else None,
        program_id=getattr(staff, "program_id", None),
        action=action,
        object_type="staff",
        object_id=str(staff.pk) if staff else "",
        detail={"username": username, **(detail or {})},
    )
