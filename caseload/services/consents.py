"""Part 2 consents (42 CFR 2.31): written with every required element, never edited, revoked by
their own endpoint and replaced by a new one. Status is derived when read, so an expiry takes
effect on the next request without any job running.

Elements required: the patient, the recipient (`recipient_name`, and `recipient_client` when
the recipient is an integration client), the purpose, how much and what kind of information
(`information`), when it ends (`expires_at` or `expiry_event`), who signed and when, and that
the patient was told how to revoke it (`revocation_notice`), the statements that what is
disclosed may be redisclosed (`redisclosure_statement`) and whether treatment is conditioned on
signing (`treatment_not_conditioned_statement`), and who signed in what capacity
(`signer_role`: the patient, a guardian or a personal representative; `signed_by` their name).
The disclosing program is the patient's own. Counseling notes are never bundled: a consent
naming `notes` names nothing else.

A consent that ends with an event (`expiry_event`) ends when someone records that the event
happened (`consent_record_expiry_event`): from then on it is expired, and every integration
relying on it sees its sync links answer 410 `sync_expired`, as after a revocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
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
    SignerRole,
    Staff,
)
from caseload.selectors.consents import consent_status

from .records import ExpectedVersion, record_create, record_update

# Clock skew tolerated between a client and the server for "not in the future" checks.
CLOCK_SKEW = timedelta(minutes=5)
NOTES = InformationCategory.NOTES
REQUIRED_TEXT = ("recipient_name", "purpose", "signed_by")
# 42 CFR 2.31(a) statements the signed form carried: each must be sent as true.
STATEMENTS = {
    "revocation_notice": "The patient must be told how to revoke the consent; send true once "
    "they were.",
    "redisclosure_statement": "The consent must say that what is disclosed may be redisclosed "
    "by the recipient and no longer be protected; send true once it did.",
    "treatment_not_conditioned_statement": "The consent must say whether treatment, payment, "
    "enrollment or eligibility is conditioned on signing it; send true once it did.",
}


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
    for name, message in STATEMENTS.items():
        if name not in failed and values.get(name) is not True:
            problems.append((name, "required", message))
    if "signer_role" not in failed:
        role = values.get("signer_role")
        if not role:
            problems.append(
                (
                    "signer_role",
                    "required",
                    "Say who signed: patient, guardian or personal_representative.",
                )
            )
        elif role not in SignerRole.values:
            allowed = ", ".join(SignerRole.values)
            problems.append(("signer_role", "invalid_choice", f"Allowed values: {allowed}."))
    return problems


def consent_record_expiry_event(
    *,
    consent: Consent,
    actor: Staff,
    occurred_at: datetime | None = None,
    expected_version: ExpectedVersion = None,
) -> Consent:
    """Record that the consent's expiry event happened (at `occurred_at`, default now): the
    consent is expired from then on. Checked on the locked row: a consent that names no event,
    or is already revoked or expired, stays as it was (409).

    Like a revocation it waits for any disclosure holding the consent (caseload/locks.py), so
    every disclosure made under it is ledgered before it ends.
    """
    now = timezone.now()
    when = occurred_at or now
    if when > now + CLOCK_SKEW:
        raise InvalidInput(
            "An expiry event is recorded once it has happened.",
            code="out_of_range",
            field="occurred_at",
        )
    when = min(when, now)
    changes: dict[str, Any] = {
        "expiry_event_occurred_at": when,
        "expiry_event_recorded_by": actor,
    }

    return record_update(
        instance=consent,
        actor=actor,
        changes=changes,
        expected_version=expected_version,
        guard=partial(_check_event_may_end, when=when),
        action=AuditAction.TRANSITION,
        audit_detail={"to": ConsentStatus.EXPIRED, "expiry_event": True},
    )


def _check_event_may_end(current: Consent, *, when: datetime) -> None:
    """On the locked row: the consent names an event, is still active, and was signed first."""
    if not current.expiry_event:
        raise Conflict(
            "This consent ends on a date, not with an event.",
            code="no_expiry_event",
            field="expiry_event",
        )
    status = consent_status(current)
    if status != ConsentStatus.ACTIVE:
        raise Conflict(f"The consent is already {status}.", code=f"already_{status}")
    if when < current.signed_at:
        raise InvalidInput(
            "The event cannot precede the consent's signature.",
            code="out_of_range",
            field="occurred_at",
        )


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
