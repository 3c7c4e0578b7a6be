"""The patient page and what is written from it: assessments, notes, appointments, and
breaking the glass for a patient off the user's caseload."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict

from csp.decorators import csp_update
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from caseload import instruments
from caseload.charts import STYLESHEET, render_withdrawal_trend_svg
from caseload.errors import DomainError
from caseload.models import (
    Alert,
    AlertStatus,
    Appointment,
    Assessment,
    AuditAction,
    BreakGlass,
    CaseNote,
    Patient,
    Placement,
    Staff,
    TreatmentPlan,
)
from caseload.permissions import (
    ADD,
    BREAK_GLASS_ROLES,
    CHANGE,
    may,
    may_each,
    sees_clinical_content,
)
from caseload.selectors.break_glass import break_glass_candidates
from caseload.selectors.history import patient_history
from caseload.selectors.people import colleagues_of
from caseload.selectors.records import appointment_list
from caseload.selectors.trend import trend_of
from caseload.services.appointments import appointment_create
from caseload.services.assessments import assessment_record
from caseload.services.break_glass import break_glass_open
from caseload.services.notes import note_create
from caseload.services.patients import patient_update
from caseload.timeline import EXPECTED_COURSE_LABEL, withdrawal_phase

from ..access import as_uuid, audit_page, patient_or_404, refuse, refuse_domain, staff_page
from ..forms import (
    AppointmentForm,
    AssessmentForm,
    BreakGlassForm,
    ContactForm,
    NoteForm,
    show_domain_error,
)
from ..labels import INSTRUMENT_NAMES, PHASE_NAMES, SEVERITY_NAMES, SHORT_NAMES
from ..summaries import KIND_NAMES, summary
from ..treatment_sections import treatment_sections
from .common import version_of

# The chart's own <style> element, allowed by its hash: the page still runs no inline script
# and takes no other inline style.
CHART_STYLE_HASH = (
    f"'sha256-{base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()}'"
)


# The forms the patient page may offer: (action, record type) asked of the policy.
PAGE_FORMS = {
    "assessment": (ADD, Assessment),
    "note": (ADD, CaseNote),
    "appointment": (ADD, Appointment),
    "contact": (CHANGE, Patient),
    # A treatment section's edit and correction links follow its add answer (the policy gives
    # treatment records' add and change together; each form asks again, 403 otherwise).
    "treatment_plan": (ADD, TreatmentPlan),
    "placement": (ADD, Placement),
}


@staff_page
@csp_update({"style-src": [CHART_STYLE_HASH]})
def patient_page(request: HttpRequest, pk) -> HttpResponse:
    user = request.user
    try:
        patient = patient_or_404(request, pk)
    except Http404:
        # Exactly the same page for an id that does not exist and a patient off the caseload.
        context = {"pk": pk, "may_break_glass": user.role in BREAK_GLASS_ROLES}
        return render(request, "console/patients/not_found.html", context, status=404)
    clinical = sees_clinical_content(user)
    if clinical:
        entries = patient_history(user=user, patient=patient)
    else:
        rows = appointment_list(user=user).filter(patient=patient).order_by("-start")
        entries = [_Entry("appointment", a.start, a) for a in rows]
    by_kind: dict[str, list] = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry.record)
    names = {m.pk: m.get_full_name() or m.username for m in colleagues_of(user)}
    # Which forms to offer: the policy's answer for this user and patient.
    writable, answers = may_each(user, PAGE_FORMS.values(), patient=patient)
    context = {
        "patient": patient,
        "clinical": clinical,
        "staff_names": names,
        "writable": writable,
        "may_edit_contact": answers[PAGE_FORMS["contact"]],
        "may_add": {name: answers[ask] for name, ask in PAGE_FORMS.items()},
        "sections": by_kind,
        "history": _history_rows(entries, names),
        "instruments": [(code, SHORT_NAMES[code]) for code in instruments.INSTRUMENT_CODES],
        "severity_names": SEVERITY_NAMES,
    }
    if clinical:
        context |= _clinical_context(request, patient, by_kind["assessment"])
        context |= treatment_sections(entries, names)
    audit_page(request, model=Patient, objects=[patient], action=AuditAction.READ)
    return render(request, "console/patients/page.html", context)


def _history_rows(entries, names: dict) -> list[dict]:
    """The history table: each record's summary and every change, naming who made it."""
    return [
        {
            "at": entry.at,
            "kind": KIND_NAMES[entry.kind],
            "summary": summary(entry.kind, entry.record),
            "changes": [
                {**change, "by_name": names.get(change["by"], "")} for change in entry.changes
            ],
        }
        for entry in entries
    ]


class _Entry:
    def __init__(self, kind, at, record):
        self.kind, self.at, self.record, self.changes = kind, at, record, []


def _clinical_context(request: HttpRequest, patient: Patient, assessments: list) -> dict:
    """The chart, its table of scores, the phase and the user's open alerts. The chart is
    drawn from the assessments the history has already read."""
    user = request.user
    trend = trend_of(assessments)
    series = [one for one, _ in trend]
    svg = render_withdrawal_trend_svg(
        series=series,
        last_use_at=patient.last_use_at,
        title=f"Withdrawal trend, MRN {patient.mrn}",
        zone=timezone.get_current_timezone(),
    )
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    scores = sorted(
        ((one.label, point) for one in series for point in one.points),
        key=lambda row: row[1].at,
        reverse=True,
    )
    phase = withdrawal_phase(patient.last_use_at, timezone.now())
    alerts = Alert.objects.filter(patient=patient, recipient=user, status=AlertStatus.OPEN)
    return {
        "chart_svg": svg,
        "scores": scores,
        "phase_name": PHASE_NAMES.get(phase or "", ""),
        "phase_label": EXPECTED_COURSE_LABEL,
        "alerts": list(alerts.order_by("-created_at")),
    }


def _writable_patient(request: HttpRequest, pk, model: type[models.Model]) -> Patient:
    """The patient a form writes to: 404 as on the patient page; 403 (audited) when the policy
    says the user may not add this kind of record for them, before anything is typed."""
    patient = patient_or_404(request, pk, action=AuditAction.CREATE)
    if not may(request.user, ADD, model, patient=patient):
        refuse(
            request,
            action=AuditAction.CREATE,
            model=model,
            resource_id="",
            patient_id=patient.pk,
            status_code=403,
        )
        raise PermissionDenied
    return patient


@staff_page
@require_http_methods(["GET", "POST"])
def assessment_new(request: HttpRequest, pk, instrument: str) -> HttpResponse:
    if instrument not in instruments.INSTRUMENT_CODES:
        raise Http404("No such instrument.")
    patient = _writable_patient(request, pk, Assessment)
    form = AssessmentForm(instrument, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = assessment_record(
                    patient=patient,
                    actor=request.user,
                    instrument=instrument,
                    items=form.items(),
                    administered_at=form.cleaned_data["administered_at"],
                )
            except DomainError as exc:
                refuse_domain(request, exc, action=AuditAction.CREATE, record=patient)
                show_domain_error(form, exc, prefix="items.")
                status = exc.status
            else:
                messages.success(request, _saved_words(saved))
                return redirect(_patient_url(patient, "assessments"))
    context = {
        "patient": patient,
        "form": form,
        "instrument": instrument,
        "instrument_name": INSTRUMENT_NAMES[instrument],
        "short_name": SHORT_NAMES[instrument],
        "definition": form.definition,
        "items": [form[name] for name in form.item_names],
        "bands_json": _bands_json(form.definition),
    }
    return render(request, "console/patients/assessment_form.html", context, status=status)


def _saved_words(assessment) -> str:
    if assessment.total_score is not None:
        band = SEVERITY_NAMES.get(assessment.severity, assessment.severity)
        name = SHORT_NAMES[assessment.instrument]
        return f"Saved: {name} total {assessment.total_score} ({band})."
    return f"Saved: {assessment.criteria_met} of 9 criteria met."


def _bands_json(definition: dict) -> str:
    return json.dumps(
        {
            "bands": [
                {**band, "name": SEVERITY_NAMES.get(band["severity"], band["severity"])}
                for band in definition.get("bands", [])
            ],
            "combined": definition.get("combined_criterion", []),
            "threshold": definition.get("criteria_threshold"),
        }
    )


def _patient_url(patient: Patient, section: str = "") -> str:
    url = reverse("console:patient", kwargs={"pk": patient.pk})
    return f"{url}#{section}" if section else url


@staff_page
@require_http_methods(["GET", "POST"])
def note_new(request: HttpRequest, pk) -> HttpResponse:
    patient = _writable_patient(request, pk, CaseNote)
    form = NoteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                note_create(actor=request.user, patient=patient, fields=dict(form.cleaned_data))
            except DomainError as exc:
                refuse_domain(request, exc, action=AuditAction.CREATE, record=patient)
                show_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Note saved.")
                return redirect(_patient_url(patient, "notes"))
    context = {"patient": patient, "form": form}
    return render(request, "console/patients/note_form.html", context, status=status)


@staff_page
@require_http_methods(["GET", "POST"])
def appointment_new(request: HttpRequest, pk) -> HttpResponse:
    patient = _writable_patient(request, pk, Appointment)
    staff = (
        Staff.objects.filter(program_id=request.user.program_id, is_active=True)
        .exclude(role="")
        .order_by("last_name", "first_name", "username")
    )
    # A clinician books their own appointments first; front desk and supervisors choose.
    mine = request.user.pk if request.user.role in BREAK_GLASS_ROLES else None
    form = AppointmentForm(request.POST or None, staff_choices=staff, initial={"staff": mine})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                appointment_create(actor=request.user, patient=patient, fields=form.cleaned_data)
            except DomainError as exc:
                refuse_domain(request, exc, action=AuditAction.CREATE, record=patient)
                show_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Appointment booked.")
                if request.htmx:
                    return HttpResponseClientRedirect(_patient_url(patient, "appointments"))
                return redirect(_patient_url(patient, "appointments"))
    context = {"patient": patient, "form": form, "zone": timezone.get_current_timezone_name()}
    if request.htmx:
        return render(request, "console/patients/_appointment_form.html", context, status=status)
    return render(request, "console/patients/appointment_form.html", context, status=status)


@staff_page
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest, pk) -> HttpResponse:
    """The same form for any id: it says nothing of whether the patient exists. Only a patient
    of the user's program can be opened; any other id answers 404 like a random one."""
    form = BreakGlassForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        patient_id = as_uuid(pk)
        patient = (
            break_glass_candidates(user=request.user).filter(pk=patient_id).first()
            if patient_id
            else None
        )
        if patient is None:
            refuse(
                request,
                action=AuditAction.BREAK_GLASS,
                model=BreakGlass,
                resource_id=patient_id or "",
                patient_id=patient_id,
            )
            raise Http404("No such patient.")
        try:
            break_glass_open(
                actor=request.user, patient=patient, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            refuse_domain(request, exc, action=AuditAction.BREAK_GLASS, record=patient)
            show_domain_error(form, exc)
            status = exc.status
        else:
            messages.warning(
                request,
                "You broke the glass: this record is open to you read-only for a limited time, "
                "and a supervisor will review why.",
            )
            return redirect(_patient_url(patient))
    return render(
        request, "console/patients/break_glass.html", {"form": form, "pk": pk}, status=status
    )


@staff_page
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk) -> HttpResponse:
    """Change a patient's contact details through `patient_update` (If-Match by version)."""
    patient = patient_or_404(request, pk, action=AuditAction.UPDATE)
    if not may(request.user, CHANGE, patient):
        refuse(
            request,
            action=AuditAction.UPDATE,
            model=Patient,
            resource_id=patient.pk,
            patient_id=patient.pk,
            status_code=403,
        )
        raise PermissionDenied
    initial = {name: getattr(patient, name) for name in ContactForm.base_fields}
    form = ContactForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if getattr(patient, k) != v}
            try:
                patient_update(
                    patient=patient,
                    actor=request.user,
                    changes=changes,
                    expected_version=version_of(request),
                )
            except DomainError as exc:
                refuse_domain(request, exc, action=AuditAction.UPDATE, record=patient)
                show_domain_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Contact details saved.")
                return redirect(_patient_url(patient, "demographics"))
    context = {"patient": patient, "form": form}
    return render(request, "console/patients/contact_form.html", context, status=status)
