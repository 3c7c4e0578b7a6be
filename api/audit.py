"""Auditing at the HTTP edge: the request id every event carries, and the refusals.

Reads and writes are audited where they happen (the base viewset, the write services). What
fails never reaches them, so the exception handler calls `audit_refusal`: a 403, a 404 on a
detail route, a refused write (409, 412) and a 400 that names an object the caller may not see
each become a `denied` event, written after the request's own transaction rolled back.

404s are audited whether or not the id exists: an event only for ids that exist would tell a
supervisor, who can read the log, that some other program holds that id. Patients are named
only when they belong to the caller's program, for the same reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.db import models
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions

from caseload.context import current_request, request_context
from caseload.errors import LockedOut
from caseload.models import AuditAction, Patient
from caseload.services.audit import audit_denial

from .middleware import is_api_path

REQUEST_ID_HEADER = "X-Request-ID"
# Refusals that are events: denied access, and writes refused on the record's state.
REFUSED_STATUSES = {403, 404, 409, 412}

_VIEW_ACTIONS = {
    "list": AuditAction.LIST,
    "retrieve": AuditAction.READ,
    "create": AuditAction.CREATE,
    "update": AuditAction.UPDATE,
    "partial_update": AuditAction.UPDATE,
    "entered_in_error": AuditAction.ENTERED_IN_ERROR,
}


class AuditContextMiddleware:
    """Give each request an id (also sent back as `X-Request-ID`) that its events carry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        with request_context(request_id=request_id, source=request.META.get("REMOTE_ADDR", "")):
            response = self.get_response(request)
        if is_api_path(request.path_info):
            response[REQUEST_ID_HEADER] = request_id
        return response


class AuditedViewMixin:
    """For every API view: what its requests' audit events say about it.

    A route may declare (as a view attribute or an `@action` keyword) its `audit_action` when
    the kind of request does not say it, the `audit_resource` (model) it reads when that is not
    the view's own model, and the `success_status` of a write that answers something other than
    201 for a create and 200 otherwise; an action and a status may be given per method, for a
    route whose methods do different things.
    """

    audit_action: ClassVar[str | dict[str, str] | None] = None
    audit_resource: ClassVar[type | None] = None
    success_status: ClassVar[int | dict[str, int] | None] = None

    def initial(self, request, *args, **kwargs) -> None:
        view_started(self)
        super().initial(request, *args, **kwargs)


def view_started(view) -> None:
    """Tell the domain what a successful write of this request answers."""
    request = current_request()
    if request is not None:
        declared = getattr(view, "success_status", None)
        if isinstance(declared, dict):
            declared = declared.get(getattr(getattr(view, "request", None), "method", ""))
        created = getattr(view, "action", None) == "create"
        request.success_status = declared or (201 if created else 200)


def audit_action_for(view, method: str) -> str:
    """The audit action of a request to `view`: declared on the route, or by its kind."""
    declared = getattr(view, "audit_action", None)
    if isinstance(declared, dict):  # a route whose methods do different things
        declared = declared.get(method)
    if declared:
        return declared
    name = getattr(view, "action", None)
    if name in _VIEW_ACTIONS:
        return _VIEW_ACTIONS[name]
    detail = "pk" in getattr(view, "kwargs", {})
    if method in ("GET", "HEAD", "OPTIONS"):
        return AuditAction.READ if detail else AuditAction.LIST
    if method in ("PUT", "PATCH"):
        return AuditAction.UPDATE
    return AuditAction.TRANSITION if detail else AuditAction.CREATE


def resource_type_for(view) -> str:
    model = getattr(view, "audit_resource", None) or getattr(view, "model", None)
    if model is not None:
        return model._meta.model_name
    return getattr(view, "basename", "") or ""


def audit_refusal(exc: Exception, context: dict, status_code: int) -> None:
    view, request = context.get("view"), context.get("request")
    if view is None or request is None or not _is_refusal(exc, status_code):
        return
    try:
        user = getattr(request, "user", None)
    except exceptions.APIException:
        # Refused before authentication ran (a `.json`-style suffix the view does not serve),
        # with credentials that do not authenticate: there is nobody to attribute it to.
        return
    if not getattr(user, "is_authenticated", False):
        return
    kwargs = getattr(view, "kwargs", {}) or {}
    resource_id = as_uuid(kwargs.get("pk"))
    detail: dict[str, Any] = {"method": request.method}
    if kwargs.get("pk") is not None and resource_id is None:
        detail["malformed_id"] = True
    named = _named_objects(exc, request) if status_code == 400 else {}
    if status_code == 400 and not named:
        return  # a malformed body is not an access to anything
    if named:
        detail["named"] = {field: str(value) for field, value in named.items()}
    code = getattr(exc, "code", None) or getattr(getattr(exc, "detail", None), "code", None)
    if code:
        detail["code"] = str(code)
    audit_denial(
        actor=user,
        action=audit_action_for(view, request.method),
        resource_type=resource_type_for(view),
        resource_id=resource_id or "",
        patient_ids=patients_in_program(
            user, view=view, resource_id=resource_id, named=named.values(), request=request
        ),
        status_code=status_code,
        detail=detail,
    )


def _is_refusal(exc: Exception, status_code: int) -> bool:
    if isinstance(exc, LockedOut):
        return False  # the sign-in service audits it
    if status_code in REFUSED_STATUSES:
        # A page past the end is a 404 about a query parameter, not about an object.
        return not (status_code == 404 and getattr(exc, "field", None) == "page")
    return status_code == 400 and isinstance(exc, exceptions.ValidationError)


def _named_objects(exc: Exception, request) -> dict[str, uuid.UUID]:
    """Fields of a refused body that name an object the caller may not see (`does_not_exist`)."""
    detail = getattr(exc, "detail", None)
    if not isinstance(detail, dict):
        return {}
    named = {}
    for field, problems in detail.items():
        codes = {getattr(p, "code", None) for p in problems} if isinstance(problems, list) else ()
        value = as_uuid(_body_value(request, str(field)))
        if "does_not_exist" in codes and value is not None:
            named[str(field)] = value
    return named


def patients_in_program(
    user, *, view, resource_id, named: Iterable[uuid.UUID], request
) -> list[uuid.UUID]:
    """Patients of the caller's program the refused request was about: the record's patient,
    a patient the body or `?patient=` named. Ids of other programs are never resolved."""
    candidates: set[uuid.UUID] = set(named)
    for sent in (request.query_params.get("patient"), _body_value(request, "patient")):
        if as_uuid(sent) is not None:
            candidates.add(as_uuid(sent))
    model = getattr(view, "model", None)
    program_id = getattr(user, "program_id", None)
    if program_id is None:
        return []
    found = set(patients_of_program(program_id, candidates))
    if resource_id is not None and model is not None:
        found |= set(_record_patient(model, resource_id, program_id))
    return sorted(found, key=str)


def _body_value(request, key: str) -> Any:
    """A top-level value of the request's JSON body, if it has one that parses."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    try:
        data = request.data
    except exceptions.APIException:  # unparseable: the refusal came first, nothing to add
        return None
    return data.get(key) if isinstance(data, dict) else None


def patients_of_program(program_id, ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    ids = list(ids)
    if not ids:
        return []
    return list(
        Patient.objects.filter(pk__in=ids, program_id=program_id).values_list("pk", flat=True)
    )


def _record_patient(model: type[models.Model], pk: uuid.UUID, program_id) -> list[uuid.UUID]:
    if model is Patient:
        return patients_of_program(program_id, [pk])
    if not any(f.name == "patient" for f in model._meta.get_fields()):
        return []
    return list(
        model._default_manager.filter(pk=pk, patient__program_id=program_id).values_list(
            "patient_id", flat=True
        )
    )


def as_uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str | uuid.UUID):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    except ValueError:
        return None
