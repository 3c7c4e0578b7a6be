"""Who reaches a console page, and how its reads and refusals are audited.

The console decides nothing: a page's records come from the selectors (already scoped to the
user), every write goes through a service (which asks the policy), and this module only turns
their answers into pages. A patient the user may not open answers 404 exactly like an id that
does not exist, and the refusal is an audit event like the API's (api/audit.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from caseload.context import current_request
from caseload.models import AuditAction, Patient
from caseload.permissions import is_staff_member
from caseload.selectors.patients import patient_list
from caseload.services.audit import audit_denial, audit_read

View = Callable[..., HttpResponse]


def mfa_required() -> bool:
    return settings.CASELOAD_CONSOLE_MFA == "required"


def second_factor_verified(request: HttpRequest) -> bool:
    """Did this session confirm a TOTP device of its own user (django-otp's session key)?"""
    if not mfa_required():
        return True
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    cached = getattr(request, "_console_device", None)
    if cached is None:
        cached = Device.from_persistent_id(persistent_id, for_verify=False)
        request._console_device = cached
    return cached is not None and cached.user_id == request.user.pk and cached.confirmed


def is_console_user(request: HttpRequest) -> bool:
    user = request.user
    return (
        user.is_authenticated
        and is_staff_member(user)
        and user.is_active
        and second_factor_verified(request)
    )


def staff_page(view: View) -> View:
    """A console page: signed in staff with a verified second factor, or off to sign in.

    The status a successful write of the request answers is the page's (200; the services
    stamp it on their audit events)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_console_user(request):
            login = reverse("console:login")
            if request.htmx:
                response = HttpResponse(status=401)
                response["HX-Redirect"] = login
                return response
            return redirect(f"{login}?next={request.path}")
        context = current_request()
        if context is not None:
            context.success_status = 200
        return view(request, *args, **kwargs)

    return wrapped


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def patient_or_404(request: HttpRequest, pk, *, action: str = AuditAction.READ) -> Patient:
    """The patient, if the user may open it; otherwise an audited 404 like a random id.

    Patients are named in the refusal only when they belong to the user's program, as the API
    does (a supervisor reading the log learns nothing of other programs' ids)."""
    patient_id = as_uuid(pk)
    patient = patient_list(user=request.user).filter(pk=patient_id).first() if patient_id else None
    if patient is not None:
        return patient
    refuse(
        request, action=action, model=Patient, resource_id=patient_id or "", patient_id=patient_id
    )
    raise Http404("No such patient.")


def refuse(
    request: HttpRequest,
    *,
    action: str,
    model: type[models.Model],
    resource_id,
    patient_id=None,
    status_code: int = 404,
) -> None:
    """Record a refused page as a denied event, naming only a patient of the user's program."""
    named = []
    if patient_id is not None and (
        Patient.objects.filter(pk=patient_id, program_id=request.user.program_id).exists()
    ):
        named = [patient_id]
    audit_denial(
        actor=request.user,
        action=action,
        resource_type=model._meta.model_name,
        resource_id=resource_id,
        patient_ids=named,
        status_code=status_code,
        detail={"method": request.method, "console": request.path},
    )


def audit_page(
    request: HttpRequest,
    *,
    model: type[models.Model],
    objects: Iterable[models.Model],
    action: str = AuditAction.LIST,
    patient_ids: Iterable = (),
    detail: dict | None = None,
) -> None:
    """A page's read, like the API's: one event naming every patient it showed."""
    audit_read(
        actor=request.user,
        model=model,
        objects=objects,
        action=action,
        patient_ids=patient_ids,
        detail={"console": request.path} | (detail or {}),
    )


def require_role(request: HttpRequest, allowed: bool, *, model: type[models.Model]) -> None:
    """403 (audited) for a page the policy says the user's role does not open."""
    if not allowed:
        refuse(request, action=AuditAction.READ, model=model, resource_id="", status_code=403)
        raise PermissionDenied


# Refusals the API records as denied events (api/audit.py): access refused, and a write
# refused on the record's state (409) or a stale version (412). A 400 touches nothing.
REFUSED_STATUSES = {403, 404, 409, 412}


def refuse_domain(request: HttpRequest, exc, *, action: str, record: models.Model) -> None:
    """A service refused a write the page asked for: a denied event when the API's would be."""
    if exc.status not in REFUSED_STATUSES:
        return
    patient_id = record.pk if isinstance(record, Patient) else getattr(record, "patient_id", None)
    refuse(
        request,
        action=action,
        model=type(record),
        resource_id=record.pk,
        patient_id=patient_id,
        status_code=exc.status,
    )
