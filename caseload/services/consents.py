"""Part 2 consents (42 CFR 2.31): written with every required element, never edited, revoked by
their own endpoint and replaced by a new one. Status is derived when read, so an expiry takes
effect on the next request without any job running.

Elements required: the patient, the recipient (`recipient_name`, and `recipient_client` when
the recipient is an integration client), the purpose, how much and what kind of information
(`information`), when it ends (`expires_at` or `expiry_event`), who signed and when, and that
the patient was told how to revoke it (`revocation_notice`). The disclosing program is the
patient's own. Counseling notes are never bundled: a consent naming `notes` names nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    AuditAction,
    Consent,
    ConsentStatus,
    InformationCategory,
    IntegrationClient,
    Patient,
    Staff,
)
from caseload.selectors.consents import consent_status

from .records import ExpectedVersion, record_create, record_update

# Clock skew tolerated between a client and the server for "not in the future" checks.
CLOCK_SKEW = timedelta(minutes=5)
NOTES = InformationCategory.NOTES
REQUIRED_TEXT = ("recipient_name", "purpose", "signed_by")


def consent_create(*, actor: Staff, patient: Patient, fields: dict[str, Any]) -> Consent:
    """Record a signed consent; every missing or broken element is named at once."""
    problems = consent_problems(fields) + _recipient_problems(patient, fields)
    if problems:
        raise InvalidInput("The consent is missing required elements.", errors=problems)
    return record_create(
        model=Consent,
        actor=actor,
        patient=patient,
        program_id=patient.program_id,
        audit_detail={"information": list(fields["information"])},
        **fields,
    )


def consent_revoke(
    *, consent: Consent, actor: Staff, expected_version: ExpectedVersion = None
) -> Consent:
    """End a consent now. A revoked or expired consent stays as it was (409).

    `revoked_at` is read on the locked row, after any disclosure holding the consent has
    committed (caseload/locks.py), so every disclosure under it is ledgered before it.
    """
    changes: dict[str, Any] = {"revoked_by": actor}

    def guard(current: Consent) -> None:
        status = consent_status(current)
        if status != ConsentStatus.ACTIVE:
            raise Conflict(f"The consent is already {status}.", code=f"already_{status}")
        changes["revoked_at"] = timezone.now()

    return record_update(
        instance=consent,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=guard,
        action=AuditAction.REVOKE,
    )


def consent_problems(
    values: dict[str, Any], failed: Iterable[str] = ()
) -> list[tuple[str, str, str]]:
    """(field, code, message) for every element of 42 CFR 2.31 missing or broken in `values`.

    Fields in `failed` already have an error of their own and are not checked again.
    """
    failed = set(failed)
    problems: list[tuple[str, str, str]] = []
    for name in REQUIRED_TEXT:
        if name not in failed and not str(values.get(name) or "").strip():
            problems.append((name, "required", "This element of the consent is required."))
    if "information" not in failed:
        problems += _information_problems(values.get("information"))
    if not {"expires_at", "expiry_event"} & failed:
        problems += _expiry_problems(values.get("expires_at"), values.get("expiry_event"))
    if "signed_at" not in failed:
        signed_at = values.get("signed_at")
        if signed_at is None:
            problems.append(("signed_at", "required", "This element of the consent is required."))
        elif signed_at > timezone.now() + CLOCK_SKEW:
            problems.append(("signed_at", "out_of_range", "A consent is signed in the past."))
    if "revocation_notice" not in failed and values.get("revocation_notice") is not True:
        problems.append(
            (
                "revocation_notice",
                "required",
                "The patient must be told how to revoke the consent; send true once they were.",
            )
        )
    return problems


def _recipient_problems(patient: Patient, fields: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A consent names as recipient an integration client of the patient's own program."""
    client = fields.get("recipient_client")
    if client is None or (
        IntegrationClient.objects.filter(pk=client, program_id=patient.program_id).exists()
    ):
        return []
    return [
        (
            "recipient_client",
            "does_not_exist",
            "No integration client of the patient's program has this id.",
        )
    ]


def _information_problems(information: Any) -> list[tuple[str, str, str]]:
    if not isinstance(information, list | tuple) or not information:
        return [("information", "required", "Name at least one kind of information.")]
    unknown = [item for item in information if item not in InformationCategory.values]
    if unknown:
        allowed = ", ".join(InformationCategory.values)
        return [("information", "invalid_choice", f"Allowed values: {allowed}.")]
    if len(set(information)) != len(information):
        return [("information", "duplicate", "Name each kind of information once.")]
    if NOTES in information and len(information) > 1:
        return [
            (
                "information",
                "notes_not_alone",
                "Counseling notes are disclosed only under a consent that names notes alone.",
            )
        ]
    return []


def _expiry_problems(expires_at: datetime | None, event: str | None) -> list[tuple[str, str, str]]:
    if expires_at is None and not (event or "").strip():
        message = "Give expires_at or expiry_event: a consent says when it ends."
        return [("expires_at", "required", message), ("expiry_event", "required", message)]
    if expires_at is not None and expires_at <= timezone.now():
        return [("expires_at", "out_of_range", "A new consent ends in the future.")]
    return []
