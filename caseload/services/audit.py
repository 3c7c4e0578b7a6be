"""The audit trail: one append-only event per access to, change of, or refused access to
protected information, and per sign-in.

Writes call `audit_record` inside the transaction that makes the change, so the event commits or
rolls back with it. Reads call `audit_read` with the records they return; refusals call
`audit_denial` after the refused request's transaction has rolled back, so the event is kept.

An event names its patients compactly: one patient directly, several (a list page) through a
patient set stored once per distinct set of ids (see `AuditPatientSet`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, models, transaction

from caseload.context import current_request
from caseload.models import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    AuditPatientSet,
    Patient,
    is_integration,
)
from caseload.permissions import break_glass_access, is_staff_member, is_system

from .audit_chain import event_mac


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
    return audit_event(
        actor=actor,
        action=action,
        resource_type=resource_type_of(obj),
        resource_id=obj.pk,
        patient_ids=[patient.pk] if patient is not None else (),
        program_id=program_id,
        detail=detail,
    )


def audit_read(
    *,
    actor,
    model: type[models.Model],
    objects: Iterable[models.Model],
    action: str,
    patient_ids: Iterable[uuid.UUID] = (),
    status_code: int = 200,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` read these objects (a list page, one record) in one event naming
    every patient they belong to, and any others the request named (`patient_ids`)."""
    objects = list(objects)
    ids = {patient_id_of(o) for o in objects} | set(patient_ids)
    ids.discard(None)
    single = objects[0] if action == AuditAction.READ and len(objects) == 1 else None
    return audit_event(
        actor=actor,
        action=action,
        resource_type=resource_type_of(model),
        resource_id=single.pk if single is not None else "",
        patient_ids=ids,
        status_code=status_code,
        detail={"count": len(objects)} | (detail or {}),
    )


def audit_denial(
    *,
    actor,
    action: str,
    resource_type: str,
    resource_id: Any = "",
    patient_ids: Iterable[uuid.UUID] = (),
    status_code: int,
    detail: dict[str, Any] | None = None,
    program_id: Any = None,
    client: Any = None,
) -> AuditEvent:
    """Record a refused request. Call after its transaction rolled back, so the event stays."""
    with transaction.atomic():
        return audit_event(
            client=client,
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            patient_ids=patient_ids,
            outcome=AuditOutcome.DENIED,
            status_code=status_code,
            detail=detail,
            program_id=program_id,
        )


def audit_signin(
    *, action: str, username: str, staff=None, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Record a sign-in (`login`), a refused one (`login_failed`) or a `lockout` of a username.

    `staff` is the account with that username when there is one: the event then belongs to its
    program. Only a successful sign-in names it as the actor; a failure's actor is unknown.
    """
    return audit_event(
        actor=staff if action == AuditAction.LOGIN else None,
        action=action,
        resource_type="staff",
        resource_id=staff.pk if staff else "",
        outcome=AuditOutcome.ALLOWED if action == AuditAction.LOGIN else AuditOutcome.DENIED,
        program_id=getattr(staff, "program_id", None),
        detail={"username": username, **(detail or {})},
    )


def audit_event(
    *,
    actor,
    action: str,
    resource_type: str,
    resource_id: Any = "",
    patient_ids: Iterable[uuid.UUID] = (),
    outcome: str = AuditOutcome.ALLOWED,
    status_code: int | None = None,
    detail: dict[str, Any] | None = None,
    program_id: Any = None,
    client: Any = None,
) -> AuditEvent:
    """Write one event with what the request context knows (request id, client, the status a
    successful write answers), and whether break-the-glass access made it possible. `client`
    names the integration client a background disclosure (a webhook) went to."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}")
    principal = _principal(actor, client, program_id)
    request = current_request()
    ids = sorted({uuid.UUID(str(i)) for i in patient_ids}, key=str)
    opened = _break_glass_ids(principal["actor"], ids)
    detail = (detail or {}) | ({"system": actor.name} if is_system(actor) else {})
    detail |= {"break_glass": opened} if opened else {}
    if status_code is None and outcome == AuditOutcome.ALLOWED:  # the write's, once it succeeds
        status_code = getattr(request, "success_status", None)
    event = AuditEvent(
        **principal,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id)[:64],
        outcome=outcome,
        status_code=status_code,
        request_id=getattr(request, "request_id", ""),
        break_glass=bool(opened),
        detail=detail,
    )
    _name_patients(event, ids)
    event.save(force_insert=True)
    return event


def _name_patients(event: AuditEvent, ids: list[uuid.UUID]) -> None:
    """One patient in its column, several as a stored set; then the MAC over all of it."""
    event.patient_id = ids[0] if len(ids) == 1 else None
    event.patient_set_id = patient_set_for(ids) if len(ids) > 1 else None
    event.mac = event_mac(event, [str(i) for i in ids])


def _principal(actor, client: Any, program_id: Any) -> dict[str, Any]:
    """Who acted, as the event's columns: a staff member, an integration client (a principal of
    its own: no staff member is the actor), or the system (scheduler, operator)."""
    request = current_request()
    if is_integration(actor):
        return {
            "actor": None,
            "program_id": program_id or actor.program_id,
            "client": actor.client.pk,
            "role": "integration",
        }
    staff = actor if getattr(actor, "pk", None) else None
    return {
        "actor": staff,
        "program_id": program_id or getattr(staff, "program_id", None),
        "client": client or (request.client if request is not None else None),
        "role": "system" if is_system(actor) else (getattr(staff, "role", "") or ""),
    }


def patient_set_for(ids: list[uuid.UUID]) -> int:
    """The id of the stored set holding exactly these patients, storing it the first time.

    Steady state (the same page read again) costs one indexed lookup; a new set, one INSERT.
    """
    digest = patient_set_digest(ids)
    found = AuditPatientSet.objects.filter(digest=digest).values_list("pk", flat=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            patient_set = AuditPatientSet.objects.create(digest=digest, size=len(ids), patients=ids)
    except IntegrityError:  # a concurrent request stored the same set first
        return AuditPatientSet.objects.values_list("pk", flat=True).get(digest=digest)
    return patient_set.pk


def patient_set_digest(ids: Iterable[Any]) -> str:
    return hashlib.sha256("\n".join(sorted(str(i) for i in ids)).encode()).hexdigest()


def resource_type_of(obj: models.Model | type[models.Model]) -> str:
    return obj._meta.model_name


def patient_id_of(obj: models.Model):
    if isinstance(obj, Patient):
        return obj.pk
    return getattr(obj, "patient_id", None)


def _break_glass_ids(staff, patient_ids: list[uuid.UUID]) -> list[str]:
    """The break-the-glass accesses this event used: the patients it touched that the actor
    sees only through one."""
    if staff is None or not patient_ids or not is_staff_member(staff):
        return []
    opened = break_glass_access(staff)
    return sorted({str(opened[i]) for i in patient_ids if i in opened})
