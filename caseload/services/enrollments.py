"""Episodes of care and the care-team assignment they carry."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from caseload.errors import Conflict, InvalidInput
from caseload.models import Enrollment, EnrollmentStatus, Patient, Role, Staff

from .care_team import care_team_sync
from .records import record_create, record_update


def enrollment_create(*, actor: Staff, patient: Patient, fields: dict[str, Any]) -> Enrollment:
    """Open an episode of care; its counselor and prescriber gain access to the patient."""
    _validate(patient=patient, fields=fields)
    if fields.get("status", EnrollmentStatus.INTAKE) != EnrollmentStatus.DISCHARGED and (
        Enrollment.objects.filter(patient=patient)
        .exclude(status=EnrollmentStatus.DISCHARGED)
        .exists()
    ):
        raise Conflict(
            "The patient already has an open enrollment.",
            code="open_enrollment_exists",
            field="patient",
        )
    with transaction.atomic():
        enrollment = record_create(model=Enrollment, actor=actor, patient=patient, **fields)
        care_team_sync(patient=patient, actor=actor)
    return enrollment


def enrollment_update(
    *,
    enrollment: Enrollment,
    actor: Staff,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Enrollment:
    """Change an episode: status, level of care, dates, or its care team."""
    if (
        enrollment.status == EnrollmentStatus.DISCHARGED
        and changes.get("status", EnrollmentStatus.DISCHARGED) != EnrollmentStatus.DISCHARGED
    ):
        raise Conflict(
            "A discharged enrollment cannot be reopened; open a new one.",
            code="enrollment_discharged",
            field="status",
        )
    merged = {f: getattr(enrollment, f) for f in _EDITABLE} | changes
    _validate(patient=enrollment.patient, fields=merged)
    with transaction.atomic():
        updated = record_update(
            instance=enrollment, actor=actor, changes=changes, expected_version=expected_version
        )
        if {"counselor", "prescriber"} & set(changes):
            care_team_sync(patient=enrollment.patient, actor=actor)
    return updated


def enrollment_discharge(
    *,
    enrollment: Enrollment,
    actor: Staff,
    discharged_on,
    reason: str,
    expected_version: int | None = None,
) -> Enrollment:
    """Close the episode. The care team keeps access to what was recorded during it."""
    if enrollment.status == EnrollmentStatus.DISCHARGED:
        raise Conflict(
            "The enrollment is already discharged.", code="already_discharged", field="status"
        )
    return enrollment_update(
        enrollment=enrollment,
        actor=actor,
        expected_version=expected_version,
        changes={
            "status": EnrollmentStatus.DISCHARGED,
            "discharged_on": discharged_on,
            "discharge_reason": reason,
        },
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


_EDITABLE = (
    "status",
    "level_of_care",
    "counselor",
    "prescriber",
    "admitted_on",
    "discharged_on",
    "discharge_reason",
)


def _validate(*, patient: Patient, fields: dict[str, Any]) -> None:
    _check_member(patient, fields.get("counselor"), Role.COUNSELOR, "counselor")
    _check_member(patient, fields.get("prescriber"), Role.PRESCRIBER, "prescriber")
    discharged = fields.get("status") == EnrollmentStatus.DISCHARGED
    if discharged and not fields.get("discharged_on"):
        raise InvalidInput(
            "A discharged enrollment needs discharged_on.", field="discharged_on", code="required"
        )
    if not discharged and fields.get("discharged_on"):
        raise InvalidInput("Only a discharged enrollment has discharged_on.", field="discharged_on")
    admitted, discharged_on = fields.get("admitted_on"), fields.get("discharged_on")
    if admitted and discharged_on and discharged_on < admitted:
        raise InvalidInput("discharged_on is before admitted_on.", field="discharged_on")


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
