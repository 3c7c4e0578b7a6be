"""Level-of-care placements, and the enrollment level that follows the latest one.

A placement records the clinician's ratings and choice; Caseload never computes a level. The
enrollment's `asam_level` is the latest (by `assessed_at`) placement's `actual_level` that is
not entered in error, and its coarse `level_of_care` follows from it (`COARSE_LEVEL`). Each
placement write locks the patient row first (as every enrollment write does), so two placements
recorded at once cannot leave the enrollment naming the older one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    COARSE_LEVEL,
    AuditAction,
    Enrollment,
    EnrollmentStatus,
    Placement,
    PlacementStatus,
    Staff,
)
from caseload.permissions import staff_or_none

from .audit import audit_record
from .care_team import patient_lock
from .records import ExpectedVersion, record_create, record_mark_entered_in_error
from .treatment_plans import treatment_plan_review_due_now


def placement_problems(fields: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, code, message) for the rules between fields: the reason a level differs."""
    recommended, actual = fields.get("recommended_level"), fields.get("actual_level")
    differs = bool(recommended and actual and recommended != actual)
    if differs and not str(fields.get("reason_for_difference", "")).strip():
        return [
            (
                "reason_for_difference",
                "required",
                "Say why the level given differs from the one recommended.",
            )
        ]
    return []


def placement_record(*, actor: Staff, enrollment: Enrollment, fields: dict[str, Any]) -> Placement:
    """Record a placement for an open enrollment; the enrollment's level follows the latest."""
    problems = placement_problems(fields)
    if problems:
        field, code, message = problems[0]
        raise InvalidInput(message, field=field, code=code, errors=problems)
    with transaction.atomic():
        patient_lock(enrollment.patient)
        current = Enrollment.objects.get(pk=enrollment.pk)
        if current.status == EnrollmentStatus.DISCHARGED:
            raise Conflict(
                "A discharged enrollment takes no new placement.",
                code="enrollment_discharged",
                field="enrollment",
            )
        placement = record_create(
            model=Placement,
            actor=actor,
            patient=current.patient,
            enrollment=current,
            **fields,
        )
        _follow_latest(enrollment=current, actor=actor)
    return placement


def placement_mark_entered_in_error(
    *, instance: Placement, actor: Staff, reason: str, expected_version: ExpectedVersion = None
) -> Placement:
    """Correct a placement; the enrollment's level goes back to the latest one that stands."""
    with transaction.atomic():
        patient_lock(instance.patient)
        corrected = record_mark_entered_in_error(
            instance=instance, actor=actor, reason=reason, expected_version=expected_version
        )
        _follow_latest(enrollment=Enrollment.objects.get(pk=instance.enrollment_id), actor=actor)
    return corrected


def _follow_latest(*, enrollment: Enrollment, actor: Staff) -> None:
    """Set the enrollment's `asam_level` (and coarse `level_of_care`) from its latest standing
    placement, on the locked row; audited and kept in its history. A change of level makes the
    current plan's review due at once."""
    latest = (
        Placement.objects.filter(enrollment=enrollment, status=PlacementStatus.FINAL)
        .order_by("-assessed_at", "-created_at")
        .values_list("actual_level", flat=True)
        .first()
    )
    row = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    level = latest or ""
    if row.asam_level == level:
        return
    previous = row.asam_level
    row.asam_level = level
    changed = ["asam_level"]
    if level and row.level_of_care != COARSE_LEVEL[level]:
        row.level_of_care = COARSE_LEVEL[level]
        changed.append("level_of_care")
    row.version += 1
    row.updated_by = staff_or_none(actor)
    if getattr(actor, "pk", None):
        row._history_user = actor
    row.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=row,
        patient=row.patient,
        detail={"fields": changed, "from": previous, "to": level, "via": "placement"},
    )
    if level:
        treatment_plan_review_due_now(enrollment=row, actor=actor)
