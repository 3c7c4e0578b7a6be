"""Caseload: my patients (a supervisor's: the program's; front desk: their contact details),
with the withdrawal phase, the last COWS band, open alerts and the next treatment plan review;
sortable and searchable.

Each column is a subquery of the one page query, so the page runs the same number of queries
for 10 patients as for 1,000.
"""

from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from caseload.models import (
    Alert,
    AlertStatus,
    Assessment,
    EnrollmentStatus,
    Instrument,
    Patient,
    PlanStatus,
    RecordStatus,
    TreatmentPlan,
)
from caseload.permissions import (
    VIEW,
    break_glass_access,
    has_role_permission,
    sees_clinical_content,
)
from caseload.selectors.patients import patient_list
from caseload.timeline import EXPECTED_COURSE_LABEL, withdrawal_phase

from ..access import audit_page, staff_page
from ..labels import PHASE_NAMES, SEVERITY_NAMES
from .common import window_of

SORTS = {
    "name": ("family_name", "given_name", "mrn"),
    "-name": ("-family_name", "-given_name", "mrn"),
    "mrn": ("mrn",),
    "-mrn": ("-mrn",),
    # The phase follows from the last use: the most recent use is the earliest phase.
    # A patient with no value sorts last either way, on PostgreSQL as on SQLite.
    "phase": (F("last_use_at").desc(nulls_last=True), "mrn"),
    "-phase": (F("last_use_at").asc(nulls_last=True), "mrn"),
    "cows": (F("last_cows_score").asc(nulls_last=True), "mrn"),
    "-cows": (F("last_cows_score").desc(nulls_last=True), "mrn"),
    "alerts": ("open_alerts", "mrn"),
    "-alerts": ("-open_alerts", "mrn"),
    "review": (F("plan_review_due").asc(nulls_last=True), "mrn"),
    "-review": (F("plan_review_due").desc(nulls_last=True), "mrn"),
}


def my_patients(request: HttpRequest):
    """The patients of the user's caseload, without those opened by breaking the glass."""
    user = request.user
    rows = patient_list(user=user)
    opened = break_glass_access(user)
    if opened:
        rows = rows.exclude(pk__in=list(opened))
    return rows


def with_clinical_columns(rows, user):
    """The last COWS, the open alerts and the next plan review of each row. The rows are
    patients the user may open and whose records their role may read (asked below), so the
    correlated subqueries read each patient's own rows by index instead of scoping every row
    again."""
    if has_role_permission(user, VIEW, Assessment):
        last_cows = Assessment.objects.filter(
            patient=OuterRef("pk"), instrument=Instrument.COWS, status=RecordStatus.FINAL
        ).order_by("-administered_at", "-created_at")
        alerts = (
            Alert.objects.filter(patient=OuterRef("pk"), recipient=user, status=AlertStatus.OPEN)
            .order_by()
            .values("patient")
            .annotate(n=Count("pk"))
            .values("n")
        )
        rows = rows.annotate(
            last_cows_severity=Subquery(last_cows.values("severity")[:1]),
            last_cows_score=Subquery(last_cows.values("total_score")[:1]),
            open_alerts=Coalesce(Subquery(alerts, output_field=IntegerField()), Value(0)),
        )
    if has_role_permission(user, VIEW, TreatmentPlan):
        # The signed plan of an open enrollment: its next review (docs/treatment-records.md).
        plans = (
            TreatmentPlan.objects.filter(patient=OuterRef("pk"), status=PlanStatus.SIGNED)
            .exclude(enrollment__status=EnrollmentStatus.DISCHARGED)
            .order_by("review_due_on")
        )
        rows = rows.annotate(plan_review_due=Subquery(plans.values("review_due_on")[:1]))
    return rows


@staff_page
def caseload(request: HttpRequest) -> HttpResponse:
    user = request.user
    clinical = sees_clinical_content(user)
    rows = my_patients(request)
    # The caseload's ids first: the planner then knows the page query reads a caseload (a few
    # hundred rows), not a guess over the whole program, and plans (and never JIT-compiles) it
    # as the small query it is.
    ids = list(rows.values_list("pk", flat=True))
    rows = Patient.objects.filter(pk__in=ids)
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(
            Q(family_name__icontains=query)
            | Q(given_name__icontains=query)
            | Q(mrn__icontains=query)
        )
    if clinical:
        rows = with_clinical_columns(rows, user)
    sort = request.GET.get("sort", "name")
    if sort not in SORTS or (not clinical and sort.lstrip("-") not in ("name", "mrn")):
        sort = "name"
    page = window_of(request, rows.order_by(*SORTS[sort]))
    now = timezone.now()
    today = timezone.localdate()
    for patient in page:
        due = getattr(patient, "plan_review_due", None)
        patient.review_overdue = due is not None and due < today
        phase = withdrawal_phase(patient.last_use_at, now) if clinical else None
        patient.phase_name = PHASE_NAMES.get(phase or "", "")
        patient.cows_name = SEVERITY_NAMES.get(getattr(patient, "last_cows_severity", "") or "")
    audit_page(request, model=Patient, objects=page, detail={"q": bool(query), "sort": sort})
    context = {
        "page": page,
        "query": query,
        "sort": sort,
        "clinical": clinical,
        "phase_label": EXPECTED_COURSE_LABEL,
        "columns": _columns(clinical),
    }
    template = "console/_caseload_table.html" if request.htmx else "console/caseload.html"
    return render(request, template, context)


def _columns(clinical: bool) -> list[tuple[str, str]]:
    columns = [("name", "Name"), ("mrn", "MRN")]
    if clinical:
        columns += [
            ("phase", "Withdrawal phase"),
            ("cows", "Last COWS"),
            ("alerts", "Open alerts"),
            ("review", "Plan review due"),
        ]
    return columns
