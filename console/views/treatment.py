"""Treatment plans and level-of-care placements, written from the patient page.

Each form hands its cleaned values to the service the API calls (caseload/services/
treatment_plans.py, placements.py), which asks the policy who may act and checks every state
rule on the locked row; a form that changes a record carries its version (412 `stale_etag`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from caseload.errors import DomainError
from caseload.models import (
    AuditAction,
    EnrollmentStatus,
    Patient,
    Placement,
    Staff,
    TreatmentPlan,
)
from caseload.permissions import CHANGE, may
from caseload.selectors.records import enrollment_list, placement_list, treatment_plan_list
from caseload.services.placements import placement_mark_entered_in_error, placement_record
from caseload.services.treatment_plans import (
    treatment_plan_create,
    treatment_plan_review,
    treatment_plan_sign,
    treatment_plan_update,
)

from ..access import as_uuid, patient_or_404, refuse, refuse_domain, staff_page
from ..forms import show_domain_error
from ..treatment_forms import (
    EnteredInErrorForm,
    PlacementForm,
    PlanDraftForm,
    PlanReviewForm,
    PlanSignForm,
)
from .common import version_of
from .patients import _patient_url, _writable_patient


def _submit(request: HttpRequest, form, write: Callable[[], object], *, action, record) -> int:
    """Write a posted form through its service: 0 when saved, else the status to answer (400
    for a malformed form, the service's own for a refusal, shown on the fields it names)."""
    if not form.is_valid():
        return 400
    try:
        write()
    except DomainError as exc:
        refuse_domain(request, exc, action=action, record=record)
        show_domain_error(form, exc)
        return exc.status
    return 0


def _versioned(request: HttpRequest, service, form, **record) -> Callable[[], object]:
    """A write of `record` through `service` with the form's fields (named as the service's
    arguments) and the version the form was rendered with."""
    return lambda: service(
        actor=request.user, expected_version=version_of(request), **record, **form.cleaned_data
    )


def _enrollment(request: HttpRequest, patient: Patient):
    """The episode a new plan or placement belongs to: the open one, else the latest (whose
    service then answers `enrollment_discharged`)."""
    rows = enrollment_list(user=request.user).filter(patient=patient).order_by("-admitted_on")
    enrollment = rows.exclude(status=EnrollmentStatus.DISCHARGED).first() or rows.first()
    if enrollment is None:
        raise Http404("No enrollment.")
    return enrollment


def _changeable(request: HttpRequest, patient: Patient, selector, pk) -> models.Model:
    """A record of the patient the user may see (else 404 like a random id) and change (else
    403, audited), asked of the policy before anything is typed."""
    record_id = as_uuid(pk)
    record = selector(user=request.user).filter(patient=patient, pk=record_id).first()
    if record is None:
        refuse(
            request,
            action=AuditAction.UPDATE,
            model=selector(user=request.user).model,
            resource_id=record_id or "",
            patient_id=patient.pk,
        )
        raise Http404("No such record.")
    if not may(request.user, CHANGE, record):
        refuse(
            request,
            action=AuditAction.UPDATE,
            model=type(record),
            resource_id=record.pk,
            patient_id=patient.pk,
            status_code=403,
        )
        raise PermissionDenied
    return record


def _staff(request: HttpRequest):
    return (
        Staff.objects.filter(program_id=request.user.program_id, is_active=True)
        .exclude(role="")
        .order_by("last_name", "first_name", "username")
    )


@dataclass
class Page:
    """What a form page shows and where a saved form goes."""

    template: str
    section: str
    saved: str
    context: dict


def _form_page(request: HttpRequest, form, write, *, action, record, page: Page) -> HttpResponse:
    """GET shows the form; POST writes it through its service and goes back to the patient
    page's section, or shows the form again with each error on its field."""
    status = 200
    if request.method == "POST":
        status = _submit(request, form, write, action=action, record=record)
        if not status:
            messages.success(request, page.saved)
            return redirect(_patient_url(page.context["patient"], page.section))
    context = {**page.context, "form": form}
    return render(request, f"console/patients/{page.template}", context, status=status)


def _plan_form(patient, mode: str, saved: str, plan=None) -> Page:
    context = {"patient": patient, "mode": mode, "plan": plan}
    return Page("plan_form.html", "treatment-plan", saved, context)


@staff_page
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest, pk) -> HttpResponse:
    patient = _writable_patient(request, pk, TreatmentPlan)
    enrollment = _enrollment(request, patient)
    form = PlanDraftForm(request.POST or None, staff_choices=_staff(request))

    def write():
        treatment_plan_create(actor=request.user, enrollment=enrollment, fields=form.values())

    page = _plan_form(patient, "new", "Draft treatment plan saved.")
    return _form_page(request, form, write, action=AuditAction.CREATE, record=patient, page=page)


@staff_page
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk, plan_pk) -> HttpResponse:
    """Edit a draft (`treatment_plan_update`; a signed plan answers 409 `plan_signed`)."""
    saved = "Draft treatment plan saved."
    return _plan_change(request, pk, plan_pk, PlanDraftForm, treatment_plan_update, "edit", saved)


@staff_page
@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, pk, plan_pk) -> HttpResponse:
    """Review a signed plan (`treatment_plan_review`; a draft answers 409)."""
    saved = "Plan review recorded; the next review date is set."
    return _plan_change(
        request, pk, plan_pk, PlanReviewForm, treatment_plan_review, "review", saved
    )


def _plan_change(request, pk, plan_pk, form_class, service, mode: str, saved: str):
    """A change to a plan through `service`, with only what differs from the stored plan and
    the version the form was rendered with."""
    patient = patient_or_404(request, pk, action=AuditAction.UPDATE)
    plan = _changeable(request, patient, treatment_plan_list, plan_pk)
    form = form_class(request.POST or None, plan=plan, staff_choices=_staff(request))

    def write():
        service(
            plan=plan,
            actor=request.user,
            expected_version=version_of(request),
            **form.service_arguments(plan),
        )

    page = _plan_form(patient, mode, saved, plan)
    return _form_page(request, form, write, action=AuditAction.UPDATE, record=plan, page=page)


@staff_page
@require_http_methods(["GET", "POST"])
def plan_sign(request: HttpRequest, pk, plan_pk) -> HttpResponse:
    patient = patient_or_404(request, pk, action=AuditAction.TRANSITION)
    plan = _changeable(request, patient, treatment_plan_list, plan_pk)
    initial = {"signed_by_patient_at": plan.signed_by_patient_at}
    form = PlanSignForm(request.POST or None, initial=initial)

    write = _versioned(request, treatment_plan_sign, form, plan=plan)
    saved = "Treatment plan signed; its first review date is set."
    page = Page("plan_sign.html", "treatment-plan", saved, {"patient": patient, "plan": plan})
    return _form_page(request, form, write, action=AuditAction.TRANSITION, record=plan, page=page)


@staff_page
@require_http_methods(["GET", "POST"])
def placement_new(request: HttpRequest, pk) -> HttpResponse:
    patient = _writable_patient(request, pk, Placement)
    enrollment = _enrollment(request, patient)
    form = PlacementForm(request.POST or None)

    def write():
        placement_record(actor=request.user, enrollment=enrollment, fields=dict(form.cleaned_data))

    page = Page("placement_form.html", "level-of-care", "Placement recorded.", {"patient": patient})
    return _form_page(request, form, write, action=AuditAction.CREATE, record=patient, page=page)


@staff_page
@require_http_methods(["GET", "POST"])
def placement_error(request: HttpRequest, pk, placement_pk) -> HttpResponse:
    """Correct a placement: entered in error with a reason; the level goes back to the latest
    placement that stands."""
    patient = patient_or_404(request, pk, action=AuditAction.ENTERED_IN_ERROR)
    placement = _changeable(request, patient, placement_list, placement_pk)
    form = EnteredInErrorForm(request.POST or None)

    write = _versioned(request, placement_mark_entered_in_error, form, instance=placement)
    context = {"patient": patient, "placement": placement}
    page = Page(
        "placement_error.html", "level-of-care", "Placement marked entered in error.", context
    )
    return _form_page(
        request, form, write, action=AuditAction.ENTERED_IN_ERROR, record=placement, page=page
    )
