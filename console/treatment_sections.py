"""The patient page's treatment plan and level-of-care sections, read from the history the
page already loads (`patient_history` holds every plan and placement with its changes), so
they cost no query of their own."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from caseload.models import CURRENT_PLAN_STATUSES, PlacementStatus, PlanStatus

from .treatment_forms import OBJECTIVE_STATUSES

OBJECTIVE_STATUS_NAMES = dict(OBJECTIVE_STATUSES)


def treatment_sections(entries, names: dict) -> dict:
    """The current plan (with its reviews), earlier plans, and the placements: the one that
    stands now (the enrollment's level follows it) and the ones before it."""
    plans = [entry for entry in entries if entry.kind == "treatment_plan"]
    current = next((e for e in plans if e.record.status in CURRENT_PLAN_STATUSES), None)
    placements = [entry.record for entry in entries if entry.kind == "placement"]
    standing = next((p for p in placements if p.status == PlacementStatus.FINAL), None)
    by_name = {str(pk): name for pk, name in names.items()}
    return {
        "plan": current.record if current else None,
        "plan_goals": _goals(current.record) if current else [],
        "plan_interventions": _interventions(current.record, by_name) if current else [],
        "plan_reviews": _reviews(current, names) if current else [],
        "plan_overdue": bool(
            current
            and current.record.status == PlanStatus.SIGNED
            and current.record.review_due_on < timezone.localdate()
        ),
        "earlier_plans": [entry.record for entry in plans if entry is not current],
        "placement_now": standing,
        "placements_before": [p for p in placements if p is not standing],
    }


def _goals(plan) -> list[dict]:
    """The goals with each objective's target date as a date and its status in words."""
    return [
        {
            "description": goal.get("description", ""),
            "objectives": [
                {
                    **objective,
                    "target": _as_date(objective.get("target_date")),
                    "status_name": OBJECTIVE_STATUS_NAMES.get(objective.get("status", "open")),
                }
                for objective in goal.get("objectives") or []
            ],
        }
        for goal in plan.goals or []
    ]


def _as_date(value) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _interventions(plan, by_name: dict) -> list[dict]:
    return [
        {**item, "responsible_name": by_name.get(str(item.get("responsible")), "—")}
        for item in plan.interventions or []
    ]


def _reviews(entry, names: dict) -> list[dict]:
    """Each review of the plan, newest first: the changes that set `reviewed_at`."""
    return [
        {"at": change["at"], "by_name": names.get(change["by"], ""), "fields": change["fields"]}
        for change in entry.changes
        if "reviewed_at" in change["fields"]
    ]
