"""Episodes of care and the care-team assignment they carry.

Status moves only through its own services (`enrollment_activate`, `enrollment_discharge`), each
checked on the locked row. Every write here first locks the patient row, so writes to one
patient's enrollments and grants run one at a time: after any interleaving of concurrent
requests, the grants equal what the enrollments say.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    COARSE_LEVEL,
    AuditAction,
    DischargeReason,
    Enrollment,
    EnrollmentStatus,
    Patient,
    Role,
    Staff,
)

from .care_team import care_team_sync, patient_lock
from .records import ExpectedVersion, record_create, record_update, require_status

S = EnrollmentStatus
# A new episode starts at intake, or active when the patient is admitted on the spot.
CREATABLE_STATUSES = {S.INTAKE, S.ACTIVE}
# Fields an update may change; status, discharge date and reason have endpoints of their own.
EDITABLE_FIELDS = {
    "level_of_care",
    "counselor",
    "prescriber",
    "admitted_on",
    "treatment_consent_signed_at",
}


def enrollment_create(
    *, actor: Staff | None, patient: Patient, fields: dict[str, Any]
) -> Enrollment:
    """Open an episode of care; its counselor and prescriber gain access to the patient."""
    fields = dict(fields)
    status = fields.setdefault("status", S.INTAKE)
    if status not in CREATABLE_STATUSES:
        raise InvalidInput(
            "A new enrollment starts as intake or active; discharge it afterwards.",
            field="status",
            code="invalid_choice",
        )
    _check_care_team(patient, fields)
    if status == S.ACTIVE:
        _require_treatment_consent(fields.get("treatment_consent_signed_at"))
    with transaction.atomic():
        patient_lock(patient)
        if Enrollment.objects.filter(patient=patient).exclude(status=S.DISCHARGED).exists():
            raise Conflict(
                "The patient already has an open enrollment.",
                code="open_enrollment_exists",
                field="patient",
            )
        enrollment = record_create(model=Enrollment, actor=actor, patient=patient, **fields)
        care_team_sync(patient=patient, actor=actor)
    return enrollment


def enrollment_update(
    *,
    enrollment: Enrollment,
    actor: Staff | None,
    changes: dict[str, Any],
    expected_version: ExpectedVersion,
) -> Enrollment:
    """Change an episode's level of care, admission date or care team.

    A discharged episode keeps these editable so who held the case can be corrected; its status
    and discharge details change only through the transition services.
    """
    refused = sorted(set(changes) - EDITABLE_FIELDS)
    if refused:
        raise InvalidInput(
            "Status, discharge date and reason change through their own endpoints.",
            field=refused[0],
            code="read_only",
        )
    _check_care_team(enrollment.patient, changes)

    def guard(current: Enrollment) -> None:
        _check_dates(changes.get("admitted_on", current.admitted_on), current.discharged_on)
        if current.status == S.ACTIVE and "treatment_consent_signed_at" in changes:
            _require_treatment_consent(changes["treatment_consent_signed_at"])
        if "level_of_care" in changes and current.asam_level:
            _require_coarse_level(current, changes["level_of_care"])

    return _write(
        enrollment=enrollment,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=guard,
        action=AuditAction.UPDATE,
    )


def enrollment_activate(
    *, enrollment: Enrollment, actor: Staff, expected_version: ExpectedVersion = None
) -> Enrollment:
    """Intake becomes active care; 409 from any other status, or while the consent to treatment
    is not signed (`treatment_consent_missing`)."""

    def guard(current: Enrollment) -> None:
        require_status(current, {S.INTAKE}, S.ACTIVE)
        _require_treatment_consent(current.treatment_consent_signed_at)

    return _write(
        enrollment=enrollment,
        actor=actor,
        changes={"status": S.ACTIVE},
        expected_version=expected_version,
        guard=guard,
        action=AuditAction.TRANSITION,
    )


def enrollment_discharge(
    *,
    enrollment: Enrollment,
    actor: Staff,
    discharged_on: date,
    reason: str,
    detail: str = "",
    expected_version: ExpectedVersion = None,
) -> Enrollment:
    """Close the episode with a reason from the list (`DischargeReason`); free text goes only in
    the detail, which `other` needs. The care team keeps access to what was recorded during it."""
    _check_discharge_reason(reason, detail)

    def guard(current: Enrollment) -> None:
        if current.status == S.DISCHARGED:
            raise Conflict(
                "The enrollment is already discharged.", code="already_discharged", field="status"
            )
        _check_dates(current.admitted_on, discharged_on)

    return _write(
        enrollment=enrollment,
        actor=actor,
        changes={
            "status": S.DISCHARGED,
            "discharged_on": discharged_on,
            "discharge_reason": reason,
            "discharge_reason_detail": detail,
        },
        expected_version=expected_version,
        guard=guard,
        action=AuditAction.TRANSITION,
    )


def care_team_assign(
    *,
    enrollment: Enrollment,
    actor: Staff | None,
    counselor: Staff,
    prescriber: Staff | None = None,
) -> Enrollment:
    changes: dict[str, Any] = {"counselor": counselor}
    if prescriber is not None:
        changes["prescriber"] = prescriber
    return enrollment_update(
        enrollment=enrollment, actor=actor, changes=changes, expected_version=None
    )


def _write(
    *,
    enrollment: Enrollment,
    actor: Staff | None,
    changes: dict[str, Any],
    expected_version: ExpectedVersion,
    guard,
    action: str,
) -> Enrollment:
    with transaction.atomic():
        patient_lock(enrollment.patient)
        updated = record_update(
            instance=enrollment,
            actor=actor,
            changes=changes,
            expected_version=expected_version,
            guard=guard,
            action=action,
        )
        if {"counselor", "prescriber"} & set(changes):
            care_team_sync(patient=enrollment.patient, actor=actor)
    return updated


def _check_dates(admitted_on: date | None, discharged_on: date | None) -> None:
    if admitted_on and discharged_on and discharged_on < admitted_on:
        raise InvalidInput("discharged_on is before admitted_on.", field="discharged_on")


def _require_treatment_consent(signed_at) -> None:
    if signed_at is None:
        raise Conflict(
            "An enrollment becomes active only once the consent to treatment is signed.",
            code="treatment_consent_missing",
            field="treatment_consent_signed_at",
        )


def _require_coarse_level(current: Enrollment, level_of_care: str) -> None:
    """Once a placement gives the level of care, the coarse setting follows from it."""
    expected = COARSE_LEVEL[current.asam_level]
    if level_of_care != expected:
        raise InvalidInput(
            f"The level of care follows the placement's level {current.asam_level}: {expected}.",
            field="level_of_care",
            code="derived_from_asam_level",
        )


def _check_discharge_reason(reason: str, detail: str) -> None:
    problems = []
    if reason not in DischargeReason.values:
        problems.append(("discharge_reason", "invalid_choice", f"{reason!r} is not a reason."))
    if reason == DischargeReason.OTHER and not detail.strip():
        problems.append(("discharge_reason_detail", "required", "Say what the reason 'other' was."))
    if problems:
        raise InvalidInput(
            problems[0][2], field=problems[0][0], code=problems[0][1], errors=problems
        )


def _check_care_team(patient: Patient, fields: dict[str, Any]) -> None:
    _check_member(patient, fields.get("counselor"), Role.COUNSELOR, "counselor")
    _check_member(patient, fields.get("prescriber"), Role.PRESCRIBER, "prescriber")


def _check_member(patient: Patient, staff: Staff | None, role: str, field: str) -> None:
    if staff is None:
        return
    if staff.program_id != patient.program_id or not staff.is_active:
        raise InvalidInput(
            "No such staff member in this program.", field=field, code="does_not_exist"
        )
    if staff.role != role:
        raise InvalidInput(
            f"The {field} must have the {role} role.", field=field, code="wrong_role"
        )
