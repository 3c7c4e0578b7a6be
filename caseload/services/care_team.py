"""Care-team assignment: the only place object grants on patients are given or taken away."""

from __future__ import annotations

from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from caseload.models import AuditAction, Enrollment, Patient, PatientUserObjectPermission, Staff
from caseload.permissions import CARE_TEAM_CODENAME, CARE_TEAM_PERMISSION

from .audit import audit_record


def patient_lock(patient: Patient) -> None:
    """Lock the patient row until the transaction ends: writes to one patient's care team
    run one at a time (SELECT ... FOR UPDATE on PostgreSQL; SQLite serializes all writes)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("patient_lock must run inside a transaction")
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").get()


def care_team_sync(*, patient: Patient, actor: Staff | None) -> None:
    """Make the patient's grants match its enrollments, auditing each grant and revocation.

    A staff member keeps access while any enrollment of the patient, open or discharged, names
    them as counselor or prescriber. Call inside the transaction that changed the enrollment;
    the patient row is locked first, so the enrollments and grants read here cannot change
    under a concurrent writer before this transaction commits.
    """
    patient_lock(patient)
    members = _members(patient)
    granted = set(
        Staff.objects.filter(
            pk__in=PatientUserObjectPermission.objects.filter(
                content_object=patient, permission__codename=CARE_TEAM_CODENAME
            ).values("user_id")
        )
    )
    for staff in sorted(members - granted, key=lambda s: s.username):
        assign_perm(CARE_TEAM_PERMISSION, staff, patient)
        _audit(actor, AuditAction.GRANT, patient, staff)
    for staff in sorted(granted - members, key=lambda s: s.username):
        remove_perm(CARE_TEAM_PERMISSION, staff, patient)
        _audit(actor, AuditAction.REVOKE, patient, staff)


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
