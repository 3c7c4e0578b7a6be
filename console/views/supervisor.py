"""A supervisor's pages: the audit log, the break-the-glass review queue and sign-in locks;
and everyone's alerts."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from caseload.errors import DomainError
from caseload.models import (
    Alert,
    AlertStatus,
    AuditAction,
    AuditEvent,
    BreakGlass,
    Patient,
    Staff,
)
from caseload.permissions import VIEW, has_role_permission, may_manage_program
from caseload.selectors.audit import audit_event_list, audit_event_patients, audit_events_touching
from caseload.selectors.break_glass import break_glass_list
from caseload.selectors.patients import patient_list
from caseload.selectors.signins import signin_locks
from caseload.services.alerts import alert_acknowledge
from caseload.services.break_glass import break_glass_review
from caseload.services.signins import signin_unlock

from ..access import as_uuid, audit_page, refuse, refuse_domain, require_role, staff_page
from ..forms import AuditFilterForm, ReviewForm, show_domain_error
from .common import page_of, version_of


def _program_staff(user) -> object:
    return Staff.objects.filter(program_id=user.program_id).order_by("username")


@staff_page
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_role(request, has_role_permission(user, VIEW, AuditEvent), model=AuditEvent)
    form = AuditFilterForm(request.GET or None, staff_choices=_program_staff(user))
    events = audit_event_list(user=user).select_related("actor")
    used: dict[str, str] = {}
    patient_ids = []
    if form.is_valid():
        events, patient_ids = _filtered(user, events, form.cleaned_data)
        used = {name: str(v) for name, v in form.cleaned_data.items() if v not in (None, "")}
    page = page_of(request, events)
    rows = list(page)
    patients = audit_event_patients(rows)
    shown = {pid for ids in patients.values() for pid in ids}
    mrns = dict(patient_list(user=user).filter(pk__in=shown).values_list("pk", "mrn"))
    for event in rows:
        event.patients_shown = [(pid, mrns.get(pid, "")) for pid in patients.get(event.pk, [])]
    # The events' own patients are not repeated in this read's event: the filter's is (as the
    # API's audit log does).
    audit_page(
        request,
        model=AuditEvent,
        objects=[],
        patient_ids=[pid for pid in patient_ids if _in_program(user, pid)],
        detail={"count": len(rows), "filters": sorted(used)},
    )
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {"form": form, "page": page, "events": rows, "filters": filters.urlencode()}
    return render(request, "console/supervisor/audit.html", context)


def _filtered(user, events, data: dict) -> tuple:
    """The events the form's filters keep, and the patient the filter named (if any)."""
    patient_ids = []
    if data["mrn"] and not data["patient"]:
        found = patient_list(user=user).filter(mrn=data["mrn"].strip()).first()
        data["patient"] = found.pk if found else uuid.uuid4()  # an MRN of nobody: no events
    if data["patient"]:
        events = audit_events_touching(events, data["patient"])
        patient_ids = [data["patient"]]
    if data["actor"]:
        events = events.filter(actor=data["actor"])
    for name in ("action", "outcome"):
        if data[name]:
            events = events.filter(**{name: data[name]})
    zone = timezone.get_current_timezone()
    if data["occurred_after"]:
        start = datetime.combine(data["occurred_after"], time.min, zone)
        events = events.filter(occurred_at__gte=start)
    if data["occurred_before"]:
        end = datetime.combine(data["occurred_before"], time.min, zone) + timedelta(days=1)
        events = events.filter(occurred_at__lt=end)
    return events, patient_ids


def _in_program(user, patient_id) -> bool:
    return Patient.objects.filter(pk=patient_id, program_id=user.program_id).exists()


@staff_page
def break_glass_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_role(request, has_role_permission(user, VIEW, BreakGlass), model=BreakGlass)
    reviewed = request.GET.get("reviewed") == "1"
    rows = break_glass_list(user=user).select_related("patient", "reviewed_by")
    rows = rows.filter(reviewed_at__isnull=not reviewed).order_by("-opened_at")
    page = page_of(request, rows)
    audit_page(request, model=BreakGlass, objects=page, detail={"reviewed": reviewed})
    context = {"page": page, "reviewed": reviewed, "form": ReviewForm(), "now": timezone.now()}
    return render(request, "console/supervisor/break_glass.html", context)


@staff_page
@require_POST
def break_glass_review_view(request: HttpRequest, pk) -> HttpResponse:
    user = request.user
    access_id = as_uuid(pk)
    access = break_glass_list(user=user).filter(pk=access_id).first() if access_id else None
    if access is None:
        refuse(request, action=AuditAction.UPDATE, model=BreakGlass, resource_id=access_id or "")
        raise Http404("No such opening.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            break_glass_review(
                access=access,
                actor=user,
                note=form.cleaned_data["note"],
                expected_version=version_of(request),
            )
        except DomainError as exc:
            refuse_domain(request, exc, action=AuditAction.UPDATE, record=access)
            show_domain_error(form, exc)
        else:
            messages.success(request, "Review recorded.")
            return redirect("console:break-glass")
    access = break_glass_list(user=user).select_related("patient").get(pk=access.pk)
    context = {"access": access, "form": form, "now": timezone.now()}
    return render(request, "console/supervisor/review.html", context, status=400)


@staff_page
def alerts(request: HttpRequest) -> HttpResponse:
    rows = (
        Alert.objects.filter(recipient=request.user, status=AlertStatus.OPEN)
        .select_related("patient", "assessment", "break_glass__staff")
        .order_by("-created_at")
    )
    page = page_of(request, rows)
    audit_page(request, model=Alert, objects=page)
    return render(request, "console/alerts.html", {"page": page})


@staff_page
@require_POST
def alert_acknowledge_view(request: HttpRequest, pk) -> HttpResponse:
    alert_id = as_uuid(pk)
    alert = Alert.objects.filter(pk=alert_id, recipient=request.user).first() if alert_id else None
    if alert is None:
        refuse(request, action=AuditAction.UPDATE, model=Alert, resource_id=alert_id or "")
        raise Http404("No such alert.")
    try:
        alert_acknowledge(alert=alert, actor=request.user)
    except DomainError as exc:
        refuse_domain(request, exc, action=AuditAction.UPDATE, record=alert)
        if exc.status == 403:
            raise PermissionDenied from exc
        messages.error(request, f"{exc.message} ({exc.code})")
    else:
        messages.success(request, "Alert acknowledged.")
    return redirect("console:alerts")


@staff_page
def signin_lock_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_role(request, may_manage_program(user, user.program_id, model=Staff), model=Staff)
    rows = list(signin_locks(user=user))
    audit_page(request, model=Staff, objects=rows)
    return render(request, "console/supervisor/locks.html", {"locked": rows})


@staff_page
@require_POST
def signin_unlock_view(request: HttpRequest, pk) -> HttpResponse:
    staff_id = as_uuid(pk)
    staff = _program_staff(request.user).filter(pk=staff_id).first() if staff_id else None
    if staff is None:
        refuse(request, action=AuditAction.UPDATE, model=Staff, resource_id=staff_id or "")
        raise Http404("No such staff member.")
    try:
        lifted = signin_unlock(staff=staff, actor=request.user)
    except DomainError as exc:
        refuse_domain(request, exc, action=AuditAction.UPDATE, record=staff)
        if exc.status == 403:
            raise PermissionDenied from exc
        messages.error(request, f"{exc.message} ({exc.code})")
    else:
        messages.success(request, f"Lifted {lifted} sign-in lock(s) of {staff.username}.")
    return redirect(reverse("console:locks"))
