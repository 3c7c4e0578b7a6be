"""A supervisor's program pages: the program reports, its staff, care-team assignment on the
enrollments, and the wording of its appointment reminders. Each reads through the selectors the
API reads through and writes through the service the API calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from caseload.errors import DomainError
from caseload.models import (
    Appointment,
    AuditAction,
    DischargeReason,
    Enrollment,
    EnrollmentStatus,
    LevelOfCare,
    Patient,
    Program,
    Staff,
)
from caseload.permissions import (
    CHANGE,
    has_role_permission,
    may_manage_program,
    may_read_program_reports,
)
from caseload.selectors import reports
from caseload.selectors.patients import patient_list
from caseload.selectors.people import colleagues_of
from caseload.selectors.records import enrollment_list
from caseload.services.audit import audit_event
from caseload.services.enrollments import enrollment_update
from caseload.services.programs import program_reminder_text_update
from caseload.services.reminders import reminder_text

from ..access import as_uuid, audit_page, refuse, refuse_domain, require_role, staff_page
from ..forms import (
    REPORT_PARAMETERS,
    CareTeamForm,
    ReminderWordingForm,
    ReportForm,
    StaffFilterForm,
    show_domain_error,
)
from .common import page_of, version_of

REPORT_TITLES = {
    "census": "Census",
    "admissions-discharges": "Admissions and discharges",
    "plan-reviews": "Treatment plan reviews",
    "pharmacotherapy-continuity": "Continuity of pharmacotherapy",
}


@staff_page
def program_reports(request: HttpRequest) -> HttpResponse:
    """One report of `/api/v1/reports/`, its parameters as a form; read audited as the API's."""
    user = request.user
    name = request.GET.get("report") or "census"
    if name not in REPORT_PARAMETERS:
        raise Http404("No such report.")
    if not may_read_program_reports(user):
        refuse(request, action=AuditAction.READ, model=Program, resource_id=name, status_code=403)
        raise PermissionDenied
    form = ReportForm(name, request.GET)
    body, status = None, 400
    if form.is_valid():
        try:
            body, patients = REPORT_BUILDERS[name](user, form.cleaned_data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            status = 200
            _audit_report(request, name, body, patients)
            form = form.as_run(body)
    context = {
        "report": name,
        "titles": REPORT_TITLES,
        "form": form,
        "body": body,
        "levels": dict(LevelOfCare.choices),
        "reasons": DischargeReason.choices,
    }
    return render(request, "console/supervisor/reports.html", context, status=status)


def _audit_report(request: HttpRequest, name: str, body: dict, patients: list) -> None:
    scalars = {key: str(value) for key, value in body.items() if not isinstance(value, list)}
    audit_event(
        actor=request.user,
        action=AuditAction.READ,
        resource_type="report",
        resource_id=name,
        patient_ids=patients,
        program_id=request.user.program_id,
        detail={"report": name, "console": request.path, **scalars},
    )


def _census(user: Staff, values: dict) -> tuple[dict, list]:
    on = values.get("on") or timezone.localdate()
    rows = reports.census(user=user, on=on)
    return {"on": on, "total": sum(row["count"] for row in rows), "rows": rows}, []


def _admissions_discharges(user: Staff, values: dict) -> tuple[dict, list]:
    start, end = reports.report_window(date_from=values.get("from"), date_to=values.get("to"))
    rows = reports.admissions_discharges(user=user, date_from=start, date_to=end)
    for row in rows:
        row["month_shown"] = date.fromisoformat(f"{row['month']}-01")
    return {"from": start, "to": end, "rows": rows}, []


def _plan_reviews(user: Staff, values: dict) -> tuple[dict, list]:
    """The due and overdue reviews, each with its patient and counselor named (two queries
    whatever the number of rows)."""
    on = timezone.localdate()
    rows = reports.plan_reviews(user=user, on=on)
    shown = [row["patient"] for row in rows]
    patients = patient_list(user=user).filter(pk__in=shown).in_bulk()
    counselors = colleagues_of(user).filter(pk__in={row["counselor"] for row in rows}).in_bulk()
    for row in rows:
        row["patient_shown"] = patients.get(row["patient"])
        row["counselor_shown"] = counselors.get(row["counselor"])
    overdue = sum(1 for row in rows if row["state"] == "overdue")
    return {"on": on, "overdue": overdue, "due": len(rows) - overdue, "rows": rows}, shown


def _continuity(user: Staff, values: dict) -> tuple[dict, list]:
    window = reports.cohort_window(
        cohort_from=values.get("cohort_from"),
        cohort_to=values.get("cohort_to"),
        as_of=timezone.localdate(),
    )
    result = reports.pharmacotherapy_continuity(user=user, **window)
    rate = None if result.rate is None else round(result.rate * 100, 1)
    return {**window, "result": result, "rate": result.rate, "rate_percent": rate}, []


REPORT_BUILDERS = {
    "census": _census,
    "admissions-discharges": _admissions_discharges,
    "plan-reviews": _plan_reviews,
    "pharmacotherapy-continuity": _continuity,
}


@staff_page
def staff_list(request: HttpRequest) -> HttpResponse:
    """The program's staff with role and whether the account is active (`/api/v1/staff/`)."""
    user = request.user
    require_role(request, may_manage_program(user, user.program_id, model=Staff), model=Staff)
    form = StaffFilterForm(request.GET)
    rows = colleagues_of(user)
    if form.is_valid():
        if form.cleaned_data["role"]:
            rows = rows.filter(role=form.cleaned_data["role"])
        if form.cleaned_data["is_active"]:
            rows = rows.filter(is_active=form.cleaned_data["is_active"] == "true")
    page = page_of(request, rows)
    audit_page(request, model=Staff, objects=page)
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {"form": form, "page": page, "filters": filters.urlencode()}
    return render(request, "console/supervisor/staff.html", context)


def _may_assign(user: Staff) -> bool:
    return has_role_permission(user, CHANGE, Enrollment)


@staff_page
def care_team(request: HttpRequest) -> HttpResponse:
    """The program's open enrollments with their counselor and prescriber; a list naming every
    patient it shows."""
    user = request.user
    require_role(request, _may_assign(user), model=Enrollment)
    rows = (
        enrollment_list(user=user)
        .exclude(status=EnrollmentStatus.DISCHARGED)
        .select_related("patient", "counselor", "prescriber")
        .order_by("patient__family_name", "patient__given_name", "pk")
    )
    page = page_of(request, rows)
    audit_page(request, model=Enrollment, objects=page)
    return render(request, "console/supervisor/care_team.html", {"page": page})


@staff_page
def care_team_edit(request: HttpRequest, pk) -> HttpResponse:
    """Assign an enrollment's counselor and prescriber through `enrollment_update`, the
    service of the API's PATCH, which moves the patient's grants with them."""
    user = request.user
    require_role(request, _may_assign(user), model=Enrollment)
    enrollment = _enrollment_or_404(request, pk)
    initial = {"counselor": enrollment.counselor_id, "prescriber": enrollment.prescriber_id}
    form = CareTeamForm(request.POST or None, initial=initial, staff_choices=colleagues_of(user))
    status = _form_page(
        request,
        form,
        record=enrollment,
        write=lambda data: enrollment_update(
            enrollment=enrollment,
            actor=user,
            changes=dict(data),
            expected_version=version_of(request),
        ),
    )
    if status is None:
        messages.success(request, f"Care team of {enrollment.patient.mrn} saved.")
        return redirect("console:care-team")
    context = {"enrollment": enrollment, "form": form}
    return render(request, "console/supervisor/care_team_form.html", context, status=status)


def _form_page(
    request: HttpRequest, form, *, record, write: Callable[[dict], object]
) -> int | None:
    """A form on one record. Shown (GET): a read of the record, naming its patient. Sent: the
    cleaned data goes to its service; None once written, else the status to answer, with the
    service's error on the field it names (a refusal audited as the API's)."""
    if request.method != "POST":
        audit_page(request, model=type(record), objects=[record], action=AuditAction.READ)
        return 200
    if not form.is_valid():
        return 400
    try:
        write(form.cleaned_data)
    except DomainError as exc:
        refuse_domain(request, exc, action=AuditAction.UPDATE, record=record)
        show_domain_error(form, exc)
        return exc.status
    return None


def _enrollment_or_404(request: HttpRequest, pk) -> Enrollment:
    enrollment_id = as_uuid(pk)
    found = (
        enrollment_list(user=request.user).select_related("patient").filter(pk=enrollment_id)
        if enrollment_id
        else Enrollment.objects.none()
    ).first()
    if found is None:
        action = AuditAction.UPDATE if request.method == "POST" else AuditAction.READ
        refuse(request, action=action, model=Enrollment, resource_id=enrollment_id or "")
        raise Http404("No such enrollment.")
    return found


@staff_page
def reminder_wording(request: HttpRequest) -> HttpResponse:
    """The wording the program's appointment reminders start with, changed through
    `program_reminder_text_update` with the program's version."""
    user = request.user
    require_role(request, may_manage_program(user, user.program_id, model=Program), model=Program)
    program = Program.objects.get(pk=user.program_id)
    initial = {"reminder_text": program.reminder_text}
    form = ReminderWordingForm(request.POST or None, initial=initial)
    status = _form_page(
        request,
        form,
        record=program,
        write=lambda data: program_reminder_text_update(
            program=program,
            actor=user,
            text=data["reminder_text"],
            expected_version=version_of(request),
        ),
    )
    if status is None:
        messages.success(request, "Reminder wording saved.")
        return redirect("console:reminder-wording")
    context = {"program": program, "form": form, "example": _example_reminder(program)}
    return render(request, "console/supervisor/reminder_wording.html", context, status=status)


def _example_reminder(program: Program) -> str:
    """A reminder as a patient would receive it, by the reminder service's own wording."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(10, 0), timezone.get_current_timezone())
    sample = Appointment(patient=Patient(program=program), start=start, location="Room 2")
    return reminder_text(sample)
