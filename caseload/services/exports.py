"""A patient's records exported under their consent: only the kinds of information the consent
names, written to the disclosure ledger and audited as an `export` in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from caseload.errors import Conflict, Forbidden, InvalidInput
from caseload.locks import share_lock
from caseload.models import AuditAction, Consent, ConsentStatus, DisclosureBasis, Patient, Staff
from caseload.notice import PART2_NOTICE
from caseload.permissions import ADD, may, may_write_patient
from caseload.selectors import records as selectors
from caseload.selectors.consents import consent_status

from .disclosures import ledger_disclosure

CATEGORY_SELECTORS = {
    "enrollments": selectors.enrollment_list,
    "appointments": selectors.appointment_list,
    "assessments": selectors.assessment_list,
    "medications": selectors.medication_list,
    "drug_screens": selectors.drug_screen_list,
    "referrals": selectors.referral_list,
    "notes": selectors.note_list,
}


@dataclass
class PatientExport:
    patient: Patient
    consent: Consent
    disclosed_at: datetime
    records: dict[str, list[Any]] = field(default_factory=dict)
    notice: str = PART2_NOTICE


def patient_export(*, actor: Staff, patient: Patient, consent: Consent) -> PatientExport:
    """Gather what `consent` covers and ledger the disclosure. Clinicians who reach the patient
    only through break-the-glass access do not export (403); an inactive consent is a 409.

    The consent is locked (`FOR SHARE`) and its status checked on the locked row in the
    transaction that reads the records and writes the ledger: a revocation that committed
    first refuses the export, and one that comes later waits until it is ledgered.
    """
    # Who writes consents exports under them, for a patient they may write to.
    if not (may(actor, ADD, Consent) and may_write_patient(actor, patient)):
        raise Forbidden("Only the patient's counselor or a supervisor exports the record.")
    if consent.patient_id != patient.pk:
        raise InvalidInput("Not a consent of this patient.", code="does_not_exist", field="consent")
    with transaction.atomic():
        share_lock(Consent.objects.filter(pk=consent.pk))
        consent = Consent.objects.get(pk=consent.pk)
        status = consent_status(consent)
        if status != ConsentStatus.ACTIVE:
            raise Conflict(f"The consent is {status}.", code=f"consent_{status}", field="consent")
        records = {
            category: list(CATEGORY_SELECTORS[category](user=actor).filter(patient=patient))
            for category in consent.information
            if category in CATEGORY_SELECTORS
        }
        (disclosure,) = ledger_disclosure(
            patients=[patient],
            recipient_name=consent.recipient_name,
            client=consent.recipient_client,
            purpose=consent.purpose,
            information=consent.information,
            basis=DisclosureBasis.CONSENT,
            consents={patient.pk: consent},
            actor=actor,
            audit_action=AuditAction.EXPORT,
        )
    return PatientExport(
        patient=patient, consent=consent, disclosed_at=disclosure.disclosed_at, records=records
    )
