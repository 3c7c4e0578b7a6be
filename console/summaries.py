"""One line per record for the patient's history table: what a prescriber scans at a glance."""

from __future__ import annotations

from .labels import SEVERITY_NAMES, SHORT_NAMES

KIND_NAMES = {
    "enrollment": "Enrollment",
    "assessment": "Assessment",
    "medication": "Medication",
    "drug_screen": "Drug screen",
    "referral": "Referral",
    "appointment": "Appointment",
    "note": "Case note",
    "placement": "Placement",
    "treatment_plan": "Treatment plan",
}


def summary(kind: str, record) -> str:
    text = _SUMMARIES.get(kind, lambda r: "")(record)
    if getattr(record, "status", "") == "entered_in_error":
        text += " (entered in error)"
    return text


def _assessment(a) -> str:
    if a.total_score is not None:
        band = SEVERITY_NAMES.get(a.severity, a.severity)
        return f"{SHORT_NAMES[a.instrument]} total {a.total_score}, {band}"
    met = "meets" if a.meets_withdrawal_criteria else "does not meet"
    return f"Withdrawal checklist: {a.criteria_met} of 9 criteria ({met} the threshold)"


def _medication(m) -> str:
    return (
        f"{m.get_medication_display()} {m.dose.normalize()} {m.get_dose_unit_display()}, "
        f"{m.frequency}, {m.get_route_display()} ({m.get_status_display().lower()})"
    )


def _screen(s) -> str:
    results = ", ".join(
        f"{r.get_substance_display()}: {r.get_result_display()}" for r in s.results.all()
    )
    return f"{s.get_method_display()}: {results or 'no results'}"


def _note(n) -> str:
    body = " ".join(n.body.split())
    return body if len(body) <= 120 else body[:117] + "…"


_SUMMARIES = {
    "enrollment": lambda e: f"{e.get_status_display()}, {e.get_level_of_care_display()}",
    "assessment": _assessment,
    "medication": _medication,
    "drug_screen": _screen,
    "referral": lambda r: (
        f"{r.get_group_display()} {r.group_name}".strip() + f" ({r.get_status_display().lower()})"
    ),
    "appointment": lambda a: f"{a.get_kind_display()} ({a.get_status_display().lower()})",
    "note": _note,
    "placement": lambda p: (
        f"Level {p.actual_level} given, {p.recommended_level} recommended"
        + (f" ({p.reason_for_difference})" if p.reason_for_difference else "")
    ),
    "treatment_plan": lambda t: (
        f"{t.get_status_display()} plan from {t.starts_on:%d %b %Y}"
        + (f", review due {t.review_due_on:%d %b %Y}" if t.review_due_on else "")
    ),
}
