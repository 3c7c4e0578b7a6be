"""Treatment plans: drafted, signed by the enrollment's counselor, then changed only by reviews.

One current plan (draft or signed) per enrollment, held by a partial unique constraint. A
signed plan's content changes only through `treatment_plan_review`, which records the note and
sets the next `review_due_on` (`CASELOAD_PLAN_REVIEW_DAYS`); the plan's history keeps every
earlier version. A change of level of care makes the review due at once, and the scheduler gives
the counselor a follow-up when a review falls due.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    AuditAction,
    Enrollment,
    EnrollmentStatus,
    FollowUp,
    FollowUpReason,
    PlanStatus,
    Staff,
    TreatmentPlan,
)
from caseload.permissions import staff_or_none

from .audit import audit_record
from .care_team import patient_lock
from .records import ExpectedVersion, record_create, record_update, require_status

CONTENT_FIELDS = ("problems", "goals", "interventions")
DRAFT_FIELDS = {"starts_on", "signed_by_patient_at", *CONTENT_FIELDS}


def next_review_due(today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=settings.CASELOAD_PLAN_REVIEW_DAYS)


def plan_content_problems(
    fields: dict[str, Any], *, program_id, starts_on: date | None
) -> list[tuple[str, str, str]]:
    """(field, code, message) for content that breaks the plan's rules: an objective due before
    the plan starts, an intervention whose responsible staff member is not of the program."""
    problems = []
    for g, goal in enumerate(fields.get("goals") or []):
        for o, objective in enumerate(goal.get("objectives") or []):
            target = objective.get("target_date")
            if isinstance(target, str):
                target = date.fromisoformat(target)
            if starts_on and target and target < starts_on:
                problems.append(
                    (
                        f"goals.{g}.objectives.{o}.target_date",
                        "before_plan_start",
                        "An objective's target date is on or after the plan's start.",
                    )
                )
    responsible = {
        str(item.get("responsible")) for item in fields.get("interventions") or [] if item
    }
    known = {
        str(pk)
        for pk in Staff.objects.filter(
            program_id=program_id, is_active=True, pk__in=list(responsible)
        ).values_list("pk", flat=True)
    }
    for i, item in enumerate(fields.get("interventions") or []):
        if str(item.get("responsible")) not in known:
            problems.append(
                (
                    f"interventions.{i}.responsible",
                    "does_not_exist",
                    "No such staff member in this program.",
                )
            )
    return problems


def _refuse(problems: list[tuple[str, str, str]]) -> None:
    if problems:
        field, code, message = problems[0]
        raise InvalidInput(message, field=field, code=code, errors=problems)


def treatment_plan_create(
    *, actor: Staff, enrollment: Enrollment, fields: dict[str, Any]
) -> TreatmentPlan:
    """Draft the enrollment's plan; 409 while it has a current one or is discharged."""
    fields = {"starts_on": timezone.localdate(), **_as_json(fields)}
    _refuse(
        plan_content_problems(
            fields, program_id=enrollment.patient.program_id, starts_on=fields["starts_on"]
        )
    )
    with transaction.atomic():
        patient_lock(enrollment.patient)
        current = Enrollment.objects.get(pk=enrollment.pk)
        if current.status == EnrollmentStatus.DISCHARGED:
            raise Conflict(
                "A discharged enrollment takes no new plan.",
                code="enrollment_discharged",
                field="enrollment",
            )
        if TreatmentPlan.objects.filter(
            enrollment=current, status__in=(PlanStatus.DRAFT, PlanStatus.SIGNED)
        ).exists():
            raise Conflict(
                "The enrollment already has a current plan; review it instead.",
                code="current_plan_exists",
                field="enrollment",
            )
        return record_create(
            model=TreatmentPlan, actor=actor, patient=current.patient, enrollment=current, **fields
        )


def treatment_plan_update(
    *,
    plan: TreatmentPlan,
    actor: Staff,
    changes: dict[str, Any],
    expected_version: ExpectedVersion = None,
) -> TreatmentPlan:
    """Edit a draft. A signed plan changes only by a review (409 `plan_signed`)."""
    refused = sorted(set(changes) - DRAFT_FIELDS)
    if refused:
        raise InvalidInput("This field is set by the server.", field=refused[0], code="read_only")
    changes = _as_json(changes)

    def guard(current: TreatmentPlan) -> None:
        if current.status == PlanStatus.SIGNED:
            raise Conflict(
                "A signed plan is changed only by a review.", code="plan_signed", field="status"
            )
        starts_on = changes.get("starts_on", current.starts_on)
        content = {name: changes.get(name, getattr(current, name)) for name in CONTENT_FIELDS}
        _refuse(
            plan_content_problems(
                content, program_id=current.patient.program_id, starts_on=starts_on
            )
        )

    return record_update(
        instance=plan,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=guard,
    )


def treatment_plan_sign(
    *,
    plan: TreatmentPlan,
    actor: Staff,
    signed_by_patient_at=None,
    expected_version: ExpectedVersion = None,
) -> TreatmentPlan:
    """The enrollment's counselor signs the draft, with the date the patient signed it; the
    first review falls due CASELOAD_PLAN_REVIEW_DAYS later."""
    now = timezone.now()
    guard = partial(_check_signable, actor=actor, signed_by_patient_at=signed_by_patient_at)
    changes: dict[str, Any] = {
        "status": PlanStatus.SIGNED,
        "signed_by": actor,
        "signed_at": now,
        "review_due_on": next_review_due(),
    }
    if signed_by_patient_at is not None:
        changes["signed_by_patient_at"] = signed_by_patient_at
    return record_update(
        instance=plan,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=guard,
        action=AuditAction.TRANSITION,
    )


def _check_signable(current: TreatmentPlan, *, actor, signed_by_patient_at) -> None:
    """On the locked row: a complete draft, signed by the enrollment's counselor, with the
    patient's signature date."""
    require_status(current, {PlanStatus.DRAFT}, PlanStatus.SIGNED)
    counselor_id = Enrollment.objects.filter(pk=current.enrollment_id).values_list(
        "counselor_id", flat=True
    )[0]
    if counselor_id != getattr(actor, "pk", None):
        raise Conflict(
            "Only the enrollment's counselor signs its plan.",
            code="not_on_care_team",
            field="signed_by",
        )
    problems = _incomplete(current)
    if signed_by_patient_at is None and current.signed_by_patient_at is None:
        problems.append(
            (
                "signed_by_patient_at",
                "patient_signature_missing",
                "Record when the patient signed the plan.",
            )
        )
    if problems:
        field, code, message = problems[0]
        raise Conflict(message, field=field, code=code, errors=problems)


def treatment_plan_review(
    *,
    plan: TreatmentPlan,
    actor: Staff,
    note: str,
    changes: dict[str, Any],
    expected_version: ExpectedVersion = None,
) -> TreatmentPlan:
    """Review a signed plan: the note, any changed content, and the next review date. The
    earlier version stays in the plan's history."""
    changes = _as_json(changes)
    refused = sorted(set(changes) - {"signed_by_patient_at", *CONTENT_FIELDS})
    if refused:
        raise InvalidInput("This field is set by the server.", field=refused[0], code="read_only")

    return record_update(
        instance=plan,
        actor=actor,
        changes={
            **changes,
            "review_note": note,
            "reviewed_at": timezone.now(),
            "reviewed_by": actor,
            "review_due_on": next_review_due(),
        },
        expected_version=expected_version,
        guard=partial(_check_reviewable, changes=changes),
        audit_detail={"review": True},
    )


def _check_reviewable(current: TreatmentPlan, *, changes: dict[str, Any]) -> None:
    """On the locked row: only a signed plan is reviewed, and its content stays valid."""
    if current.status != PlanStatus.SIGNED:
        raise Conflict(
            f"This plan is {current.status}; only a signed plan is reviewed.",
            code="illegal_transition",
            field="status",
        )
    content = {name: changes.get(name, getattr(current, name)) for name in CONTENT_FIELDS}
    _refuse(
        plan_content_problems(
            content, program_id=current.patient.program_id, starts_on=current.starts_on
        )
    )


def treatment_plan_review_due_now(*, enrollment: Enrollment, actor) -> None:
    """The level of care changed: the enrollment's signed plan is due for review today.

    Called inside the transaction that changed the level, with the patient row locked."""
    today = timezone.localdate()
    plan = (
        TreatmentPlan.objects.select_for_update()
        .filter(enrollment=enrollment, status=PlanStatus.SIGNED, review_due_on__gt=today)
        .first()
    )
    if plan is None:
        return
    plan.review_due_on = today
    plan.version += 1
    plan.updated_by = staff_or_none(actor)
    if getattr(actor, "pk", None):
        plan._history_user = actor
    plan.save(update_fields=["review_due_on", "version", "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        patient=plan.patient,
        detail={"fields": ["review_due_on"], "reason": "level_of_care_changed"},
    )


def treatment_plans_follow_up_due(*, today: date | None = None, limit: int = 500) -> int:
    """Give each signed plan's counselor one follow-up when its review falls due. Idempotent:
    one follow-up per plan and due date, however often the scheduler runs."""
    today = today or timezone.localdate()
    due = (
        TreatmentPlan.objects.filter(status=PlanStatus.SIGNED, review_due_on__lte=today)
        .exclude(
            Exists(
                FollowUp.objects.filter(
                    treatment_plan=OuterRef("pk"), due_on=OuterRef("review_due_on")
                )
            )
        )
        .values_list("pk", "patient_id", "review_due_on", "enrollment__counselor_id")
        .order_by("review_due_on")
    )
    made = 0
    for plan_id, patient_id, due_on, counselor_id in due[:limit]:
        try:
            with transaction.atomic():
                _, created = FollowUp.objects.get_or_create(
                    treatment_plan_id=plan_id,
                    due_on=due_on,
                    defaults={
                        "reason": FollowUpReason.PLAN_REVIEW,
                        "staff_id": counselor_id,
                        "patient_id": patient_id,
                    },
                )
        except IntegrityError:  # made by a concurrent run
            continue
        made += created
    return made


def _incomplete(plan: TreatmentPlan) -> list[tuple[str, str, str]]:
    problems = []
    if not plan.problems:
        problems.append(("problems", "plan_incomplete", "A signed plan names a problem."))
    if not plan.goals:
        problems.append(("goals", "plan_incomplete", "A signed plan names a goal."))
    for g, goal in enumerate(plan.goals or []):
        if not goal.get("objectives"):
            problems.append(
                (f"goals.{g}.objectives", "plan_incomplete", "Each goal has an objective.")
            )
    if not plan.interventions:
        problems.append(
            ("interventions", "plan_incomplete", "A signed plan names an intervention.")
        )
    return problems


def _as_json(fields: dict[str, Any]) -> dict[str, Any]:
    """Content as stored: dates as ISO strings, staff as id strings."""
    stored = dict(fields)
    for name in CONTENT_FIELDS:
        if name in stored:
            stored[name] = _jsonable(stored[name])
    return stored


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value
