"""Care-team assignment: the only place object grants on patients are given or taken away."""

from __future__ import annotations

from guardian.shortcuts import assign_perm, remove_perm

from caseload.models import Enrollment, Patient, PatientUserObjectPermission, Staff
from caseload.permissions import CARE_TEAM_PERMISSION

from .audit import audit_record


def care_team_sync(*, patient: Patient, actor: Staff | None) -> None:
    """Make the patient's grants match its enrollments, auditing each grant and revocation.

    A staff member keeps access while any enrollment of the patient, open or discharged, names
    them as counselor or prescriber. Call inside the transaction that changed the enrollment.
    """
    members = _members(patient)
    granted = set(
        Staff.objects.filter(
            pk__in=PatientUserObjectPermission.objects.filter(
                content_object=patient, permission__codename="view_patient"
            ).values("user_id")
        )
    )
    for staff in sorted(members - granted, key=lambda s: s.username):
        assign_perm(CARE_TEAM_PERMISSION, staff, patient)
        _audit(actor, "grant", patient, staff)
    for staff in sorted(granted - members, key=lambda s: s.username):
        remove_perm(CARE_TEAM_PERMISSION, staff, patient)
        _audit(actor, "revoke", patient, staff)


def _audit(actor: Staff | None, action: str, patient: Patient, staff: Staff) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=patient,
        patient=patient,
        detail={"staff": str(staff.pk), "permission": CARE_TEAM_PERMISSION},
    )


def _members(patient: Patient) -> set[Staff]:
    members: set[Staff] = set()
    for enrollment in Enrollment.objects.filter(patient=patient).select_related(
        "counselor", "prescriber"
    ):
        members.add(enrollment.counselor)
        if enrollment.prescriber:
            members.add(enrollment.prescriber)
    return members
