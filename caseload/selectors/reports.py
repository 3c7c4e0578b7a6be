"""Program reports for supervisors: census, admissions and discharges, plan reviews, and
continuity of pharmacotherapy. Each reads the caller's program only, in a fixed number of
queries whatever the program's size (aggregates in the database; the continuity measure reads
the cohort and its MOUD records once each).

The definitions are in docs/treatment-records.md ("Program reports").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone

from caseload.errors import InvalidInput
from caseload.models import (
    COARSE_LEVEL,
    DischargeReason,
    Enrollment,
    EnrollmentStatus,
    LevelOfCare,
    Medication,
    MedicationRecord,
    MedicationStatus,
    Placement,
    PlacementStatus,
    PlanStatus,
    Staff,
    TreatmentPlan,
)
from caseload.permissions import may_read_program_reports

# A signed plan whose review falls due within this many days is listed as `due`.
PLAN_REVIEW_DUE_WITHIN_DAYS = 30
# Continuity of pharmacotherapy (NQF 3175): medications for OUD Caseload records, the days of
# continuous treatment, the longest gap that does not break it, and the adults' age.
MOUD = (Medication.METHADONE, Medication.BUPRENORPHINE)
CONTINUOUS_DAYS = 180
LONGEST_GAP_DAYS = 7
ADULT_AGE = 18
# The longest window a report reads: ten years of months.
LONGEST_WINDOW = timedelta(days=3660)


def report_window(*, date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The admissions-and-discharges window: `date_to` today and `date_from` the first of the
    month a year before it, unless given; 400 naming `from` for a reversed or too long one."""
    end = date_to or timezone.localdate()
    start = date_from or (end - timedelta(days=364)).replace(day=1)
    _check_window(start, end, "from")
    return start, end


def cohort_window(*, cohort_from: date | None, cohort_to: date | None, as_of: date) -> dict:
    """The continuity measure's admission cohort: it ends CONTINUOUS_DAYS before `as_of` and
    spans a year unless given; 400 naming `cohort_from` for a reversed or too long one."""
    end = cohort_to or as_of - timedelta(days=CONTINUOUS_DAYS)
    start = cohort_from or end - timedelta(days=364)
    _check_window(start, end, "cohort_from")
    return {"cohort_from": start, "cohort_to": end, "as_of": as_of}


def _check_window(start: date, end: date, field: str) -> None:
    if start > end:
        raise InvalidInput(
            "Must not be after the end of the window.", field=field, code="window_reversed"
        )
    if end - start > LONGEST_WINDOW:
        raise InvalidInput(
            "A report covers at most ten years.", field=field, code="window_too_long"
        )


def _program_enrollments(user: Staff) -> QuerySet[Enrollment]:
    if not may_read_program_reports(user):
        return Enrollment.objects.none()
    return Enrollment.objects.filter(patient__program_id=user.program_id)


def census(*, user: Staff, on: date) -> list[dict]:
    """Enrollments in care on `on` (admitted by then, not yet discharged, past intake) by the
    level of care they were placed at that day: the latest standing placement assessed by the
    day's end, else the enrollment's own coarse level."""
    day_end = datetime.combine(
        on + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    placed = (
        Placement.objects.filter(
            enrollment=OuterRef("pk"), status=PlacementStatus.FINAL, assessed_at__lt=day_end
        )
        .order_by("-assessed_at", "-created_at")
        .values("actual_level")[:1]
    )
    in_care = (
        _program_enrollments(user)
        .filter(admitted_on__lte=on)
        .exclude(status=EnrollmentStatus.INTAKE)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gt=on))
        .annotate(level_then=Subquery(placed))
        .values("level_of_care", "level_then")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts: Counter = Counter()
    for row in in_care:
        level = row["level_then"] or ""
        coarse = COARSE_LEVEL[level] if level else row["level_of_care"]
        counts[coarse, level] += row["count"]
    order = {value: n for n, value in enumerate(LevelOfCare.values)}
    return [
        {"level_of_care": coarse, "asam_level": level, "count": count}
        for (coarse, level), count in sorted(
            counts.items(), key=lambda i: (order[i[0][0]], i[0][1])
        )
    ]


def admissions_discharges(*, user: Staff, date_from: date, date_to: date) -> list[dict]:
    """Per month from `date_from` to `date_to`: admissions, discharges, and discharges by
    reason (every reason a column, zero when none)."""
    enrollments = _program_enrollments(user)
    admitted = (
        enrollments.filter(admitted_on__range=(date_from, date_to))
        .annotate(month=TruncMonth("admitted_on"))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by()
    )
    discharged = (
        enrollments.filter(
            status=EnrollmentStatus.DISCHARGED, discharged_on__range=(date_from, date_to)
        )
        .annotate(month=TruncMonth("discharged_on"))
        .values("month", "discharge_reason")
        .annotate(count=Count("pk"))
        .order_by()
    )
    rows: dict[str, dict] = {}
    for month in _months(date_from, date_to):
        rows[month] = {"month": month, "admissions": 0, "discharges": 0} | dict.fromkeys(
            DischargeReason.values, 0
        )
    for row in admitted:
        rows[_month(row["month"])]["admissions"] += row["count"]
    for row in discharged:
        month = rows[_month(row["month"])]
        month["discharges"] += row["count"]
        month[row["discharge_reason"]] += row["count"]
    return list(rows.values())


def plan_reviews(*, user: Staff, on: date) -> list[dict]:
    """Signed, current plans whose review is overdue (before `on`) or due within
    PLAN_REVIEW_DUE_WITHIN_DAYS, soonest first."""
    if not may_read_program_reports(user):
        return []
    horizon = on + timedelta(days=PLAN_REVIEW_DUE_WITHIN_DAYS)
    plans = (
        TreatmentPlan.objects.filter(
            patient__program_id=user.program_id,
            status=PlanStatus.SIGNED,
            review_due_on__lte=horizon,
        )
        .annotate(counselor=F("enrollment__counselor_id"))
        .order_by("review_due_on", "pk")
        .values("pk", "patient_id", "enrollment_id", "counselor", "review_due_on")
    )
    return [
        {
            "plan": row["pk"],
            "patient": row["patient_id"],
            "enrollment": row["enrollment_id"],
            "counselor": row["counselor"],
            "review_due_on": row["review_due_on"],
            "state": "overdue" if row["review_due_on"] < on else "due",
        }
        for row in plans
    ]


@dataclass(frozen=True)
class Continuity:
    cohort_from: date
    cohort_to: date
    as_of: date
    admitted: int  # adults admitted in the cohort window
    with_pharmacotherapy: int  # of them, with any MOUD day from admission (the denominator)
    continuous: int  # of those, with CONTINUOUS_DAYS covered without a gap over the limit

    @property
    def rate(self) -> float | None:
        if not self.with_pharmacotherapy:
            return None
        return round(self.continuous / self.with_pharmacotherapy, 4)


def pharmacotherapy_continuity(
    *, user: Staff, cohort_from: date, cohort_to: date, as_of: date
) -> Continuity:
    """Continuity of pharmacotherapy for OUD over an admission cohort: each adult patient's
    first admission in [cohort_from, cohort_to]; their methadone and buprenorphine records
    (not entered in error) from that admission to `as_of`, an open record covering to `as_of`.
    Continuous: some stretch of at least CONTINUOUS_DAYS covered days with no gap longer than
    LONGEST_GAP_DAYS."""
    cohort = _program_enrollments(user).filter(admitted_on__range=(cohort_from, cohort_to))
    admissions: dict = {}
    for patient_id, admitted_on, birth_date in cohort.order_by("admitted_on").values_list(
        "patient_id", "admitted_on", "patient__birth_date"
    ):
        if patient_id not in admissions and _age(birth_date, admitted_on) >= ADULT_AGE:
            admissions[patient_id] = admitted_on
    spans: dict = defaultdict(list)
    records = (
        MedicationRecord.objects.filter(
            patient_id__in=cohort.values("patient_id"), medication__in=MOUD, start_date__lte=as_of
        )
        .exclude(status=MedicationStatus.ENTERED_IN_ERROR)
        .values_list("patient_id", "start_date", "end_date")
    )
    for patient_id, start, end in records:
        admitted_on = admissions.get(patient_id)
        if admitted_on is None:
            continue
        start, end = max(start, admitted_on), min(end or as_of, as_of)
        if start <= end:
            spans[patient_id].append((start, end))
    continuous = sum(1 for days in spans.values() if _longest_run(days) >= CONTINUOUS_DAYS)
    return Continuity(cohort_from, cohort_to, as_of, len(admissions), len(spans), continuous)


def _longest_run(spans: list[tuple[date, date]]) -> int:
    """Covered days in the longest stretch whose gaps are at most LONGEST_GAP_DAYS."""
    best = covered = 0
    run_end: date | None = None
    for start, end in sorted(spans):
        if run_end is not None and (start - run_end).days - 1 > LONGEST_GAP_DAYS:
            covered, run_end = 0, None
        if run_end is None:
            covered, run_end = (end - start).days + 1, end
        elif end > run_end:
            covered += (end - max(start, run_end + timedelta(days=1))).days + 1
            run_end = end
        best = max(best, covered)
    return best


def _age(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def _month(value) -> str:
    return value.strftime("%Y-%m")


def _months(date_from: date, date_to: date) -> list[str]:
    months, year, month = [], date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
