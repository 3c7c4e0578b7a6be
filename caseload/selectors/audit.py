"""Scoped reads of the audit log: a supervisor's own program, nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from caseload.models import AuditEvent, AuditPatientSet, Staff
from caseload.permissions import VIEW, has_role_permission


def audit_event_list(*, user: Staff) -> QuerySet[AuditEvent]:
    if not has_role_permission(user, VIEW, AuditEvent):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(program_id=user.program_id).order_by("-occurred_at", "-id")


def audit_events_touching(events: QuerySet[AuditEvent], patient_id) -> QuerySet[AuditEvent]:
    """Every event that touched the patient: a read or write of one of their records, or a
    list page that returned them among others (through its patient set)."""
    sets = AuditPatientSet.objects.filter(patients__has=patient_id).values("pk")
    return events.filter(Q(patient_id=patient_id) | Q(patient_set_id__in=sets))


def audit_event_patients(events: Iterable[AuditEvent]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Event id -> the ids of the patients it touched, in one query for a whole page."""
    events = list(events)
    set_ids = {e.patient_set_id for e in events if e.patient_set_id is not None}
    members = dict(AuditPatientSet.objects.filter(pk__in=set_ids).values_list("pk", "patients"))
    return {
        e.pk: (
            [e.patient_id]
            if e.patient_id is not None
            else sorted(members.get(e.patient_set_id, []), key=str)
        )
        for e in events
    }
