"""Disclosures made outside the system (a fax, a telephone call in an emergency, records handed
to a court), recorded afterwards by a supervisor so the patient's accounting of disclosures and
the ledger's tamper evidence hold them like every other disclosure (docs/privacy.md).

Each basis documents what the law asks of it:

- `consent` (42 CFR 2.31): the consent relied on, which must be the patient's, in force when
  the disclosure was made, and cover what was disclosed;
- `medical_emergency` (42 CFR 2.51): who received it (`recipient`, with their affiliation), the
  nature of the emergency (`emergency`) and who disclosed it (`disclosed_by`);
- `court_order` (42 CFR 2.61-2.67): the order's reference (`court_order_reference`);
- `audit_evaluation` (42 CFR 2.53) and `research` (42 CFR 2.52): the common fields.

Every basis gives `recipient`, `information`, `disclosed_at` and `purpose`, and may give the
recipient's address. A field that belongs to another basis is refused, so a record never says
more than its basis documents. The row is append-only like the rest of the ledger.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from caseload.context import current_request
from caseload.errors import InvalidInput
from caseload.locks import share_lock
from caseload.models import (
    AuditAction,
    Consent,
    Disclosure,
    InformationCategory,
    LedgerBasis,
    Patient,
)
from caseload.permissions import ADD, require_may, staff_or_none
from caseload.selectors.consents import consent_active_at

from .audit import audit_record

CLOCK_SKEW = timedelta(minutes=5)
NOTES = InformationCategory.NOTES
COMMON_TEXT = ("recipient", "purpose")
# The fields each basis documents beyond the common ones.
BASIS_FIELDS: dict[str, tuple[str, ...]] = {
    LedgerBasis.CONSENT: ("consent",),
    LedgerBasis.MEDICAL_EMERGENCY: ("emergency", "disclosed_by"),
    LedgerBasis.COURT_ORDER: ("court_order_reference",),
    LedgerBasis.AUDIT_EVALUATION: (),
    LedgerBasis.RESEARCH: (),
}
OFF_SYSTEM_BASES = tuple(BASIS_FIELDS)
SPECIFIC_FIELDS = frozenset(name for names in BASIS_FIELDS.values() for name in names)

Problems = list[tuple[str, str, str]]


def disclosure_record_off_system(*, actor, patient: Patient, fields: dict[str, Any]) -> Disclosure:
    """Record one disclosure made outside the system; every missing or wrong field is named at
    once and nothing is written. A supervisor of the patient's program records it.

    The consent relied on is read `FOR SHARE` (caseload/locks.py): a revocation racing the
    record waits for it, and the consent is judged as it stands once locked.
    """
    require_may(actor, ADD, Disclosure, patient=patient)
    problems = off_system_problems(fields)
    with transaction.atomic():
        consent = None
        if fields.get("basis") == LedgerBasis.CONSENT and fields.get("consent"):
            consent, consent_errors = _consent_relied_on(patient, fields)
            problems += consent_errors
        if problems:
            raise InvalidInput("The disclosure cannot be recorded as given.", errors=problems)
        row = _off_system_row(patient, fields, consent, actor)
        row.save(force_insert=True)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=row,
            patient=patient,
            detail={
                "basis": row.basis,
                "information": row.information,
                "off_system": True,
            },
        )
    return row


def _off_system_row(patient: Patient, fields: dict[str, Any], consent, actor) -> Disclosure:
    request = current_request()
    return Disclosure(
        program_id=patient.program_id,
        patient=patient,
        disclosed_at=fields["disclosed_at"],
        recipient_name=fields["recipient"].strip(),
        recipient_address=(fields.get("recipient_address") or "").strip(),
        information=sorted(set(fields["information"])),
        purpose=fields["purpose"].strip(),
        basis=fields["basis"],
        consent=consent,
        emergency=(fields.get("emergency") or "").strip(),
        disclosed_by=(fields.get("disclosed_by") or "").strip(),
        court_order_reference=(fields.get("court_order_reference") or "").strip(),
        recorded_at=timezone.now(),
        actor=staff_or_none(actor),
        request_id=request.request_id if request is not None else "",
    )


def off_system_problems(
    fields: dict[str, Any], failed: set[str] | frozenset = frozenset()
) -> Problems:
    """(field, code, message) for every field missing or wrong, the consent's own state aside
    (it is judged on the locked row)."""
    problems: Problems = []
    basis = fields.get("basis")
    if "basis" not in failed:
        if not basis:
            problems.append(("basis", "required", "Name the legal basis of the disclosure."))
        elif basis not in OFF_SYSTEM_BASES:
            allowed = ", ".join(OFF_SYSTEM_BASES)
            problems.append(("basis", "invalid_choice", f"Allowed values: {allowed}."))
    for name in COMMON_TEXT:
        if name not in failed and not str(fields.get(name) or "").strip():
            problems.append((name, "required", "This field is required."))
    if "information" not in failed:
        problems += _information_problems(fields.get("information"))
    if "disclosed_at" not in failed:
        problems += _time_problems(fields.get("disclosed_at"))
    wanted = BASIS_FIELDS.get(basis, ())
    for name in sorted(SPECIFIC_FIELDS - failed):
        given = fields.get(name)
        present = given is not None and str(given).strip() != ""
        if name in wanted and not present:
            problems.append((name, "required", f"A {basis} disclosure documents this."))
        elif basis in BASIS_FIELDS and name not in wanted and present:
            problems.append((name, "not_for_basis", f"Not documented for basis {basis}."))
    return problems


def _consent_relied_on(patient: Patient, fields: dict[str, Any]) -> tuple[Consent | None, Problems]:
    locked = share_lock(Consent.objects.filter(pk=fields["consent"], patient=patient))
    consent = Consent.objects.filter(pk__in=locked).first()
    if consent is None:
        return None, [("consent", "does_not_exist", "The patient has no consent with this id.")]
    problems: Problems = []
    disclosed_at = fields.get("disclosed_at")
    if isinstance(disclosed_at, datetime) and not consent_active_at(consent, disclosed_at):
        problems.append(
            (
                "consent",
                "consent_not_in_force",
                "The consent was not in force when the disclosure was made.",
            )
        )
    information = fields.get("information")
    if isinstance(information, list) and information and not consent.covers(information):
        problems.append(
            ("consent", "not_covered", "The consent does not cover what was disclosed.")
        )
    return consent, problems


def _information_problems(information: Any) -> Problems:
    if not isinstance(information, list | tuple) or not information:
        return [("information", "required", "Name what was disclosed.")]
    if set(information) - set(InformationCategory.values):
        allowed = ", ".join(InformationCategory.values)
        return [("information", "invalid_choice", f"Allowed values: {allowed}.")]
    if NOTES in information and len(set(information)) > 1:
        return [
            (
                "information",
                "notes_not_alone",
                "Counseling notes are never disclosed together with other information.",
            )
        ]
    return []


def _time_problems(disclosed_at: Any) -> Problems:
    if disclosed_at is None:
        return [("disclosed_at", "required", "Say when the disclosure was made.")]
    if disclosed_at > timezone.now() + CLOCK_SKEW:
        return [("disclosed_at", "out_of_range", "A disclosure is recorded once it was made.")]
    return []
