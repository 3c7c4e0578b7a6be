"""The patient's own copy of their designated record set (42 CFR 2.23, HIPAA 164.524).

Giving patients their own records needs no consent and is not a disclosure to a third party, so
no ledger row is written; the copy is audited as `patient_access`, naming the patient, the
format and how many records it held. The program acts within 30 days of a request
(docs/privacy.md).
"""

from __future__ import annotations

from caseload.errors import Forbidden
from caseload.models import AuditAction, Patient
from caseload.permissions import may_give_record_copy
from caseload.selectors.record_set import RecordSet, designated_record_set

from .audit import audit_event

FORMATS = ("json", "pdf")


def record_copy_make(*, actor, patient: Patient, document: str) -> RecordSet:
    """The record set to give the patient, read as `actor` sees it, and its audit event."""
    if not may_give_record_copy(actor, patient):
        raise Forbidden(
            "A copy of the record is made for the patient by their counselor or a supervisor.",
            field="patient",
        )
    if document not in FORMATS:
        raise ValueError(f"unknown format {document!r}")
    record_set = designated_record_set(user=actor, patient=patient)
    audit_event(
        actor=actor,
        action=AuditAction.PATIENT_ACCESS,
        resource_type="patient",
        resource_id=patient.pk,
        patient_ids=[patient.pk],
        program_id=patient.program_id,
        detail={"format": document, "records": record_set.count},
    )
    return record_set
