"""The patient's designated record set as it is given to the patient (HIPAA 164.524, 42 CFR
2.23): every record of theirs the program keeps, newest first in each kind, entered-in-error
records included and marked so.

Counseling notes are left out: like psychotherapy notes under HIPAA 164.524(a)(1)(i), SUD
counseling notes (42 CFR 2.11) are not part of the patient's right of access, and Caseload never
bundles them with anything else (docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils import timezone

from caseload.models import AmendmentRequest, Consent, Patient, Staff
from caseload.permissions import records_visible_to
from caseload.selectors import records as selectors

# (kind, selector, newest-first order, related rows read with the records)
KINDS: tuple[tuple[str, object, tuple[str, ...], tuple[str, ...]], ...] = (
    ("enrollments", selectors.enrollment_list, ("-admitted_on", "-created_at"), ()),
    ("assessments", selectors.assessment_list, ("-administered_at",), ()),
    ("medications", selectors.medication_list, ("-start_date", "-created_at"), ()),
    ("drug_screens", selectors.drug_screen_list, ("-collected_at",), ("results",)),
    ("referrals", selectors.referral_list, ("-referred_on", "-created_at"), ()),
    ("appointments", selectors.appointment_list, ("-start",), ()),
)
EXCLUDED = {
    "notes": "Counseling notes are not part of the record set given on a request for access "
    "(HIPAA 164.524(a)(1)(i); 42 CFR 2.11 SUD counseling notes).",
}


@dataclass
class RecordSet:
    patient: Patient
    program_name: str
    generated_at: datetime
    kinds: dict[str, list[models.Model]] = field(default_factory=dict)
    consents: list[Consent] = field(default_factory=list)
    # Amendment requests, with any statement of disagreement, go with the records they name.
    amendments: list[AmendmentRequest] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.kinds.values()) + len(self.consents)


def designated_record_set(*, user: Staff, patient: Patient) -> RecordSet:
    """Every record of the patient the user may read, one query per kind."""
    kinds: dict[str, list[models.Model]] = {}
    for name, selector, order, related in KINDS:
        rows = selector(user=user).filter(patient=patient).order_by(*order, "-id")
        if related:
            rows = rows.prefetch_related(*related)
        kinds[name] = list(rows)
    consents = list(
        records_visible_to(user, Consent).filter(patient=patient).order_by("-signed_at", "-id")
    )
    amendments = list(
        records_visible_to(user, AmendmentRequest)
        .filter(patient=patient)
        .order_by("-requested_at", "-id")
    )
    return RecordSet(
        patient=patient,
        program_name=patient.program.name,
        generated_at=timezone.now(),
        kinds=kinds,
        consents=consents,
        amendments=amendments,
    )
