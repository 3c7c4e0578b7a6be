"""Amendment requests (HIPAA 164.526): a patient asks for a record to be corrected, and the
program acts within 60 days.

- `amendment_request_create`: the request, naming one of the patient's own records that are
  corrected by entered-in-error (assessments, medications, drug screens, referrals, notes), as
  the patient's counselor or a supervisor records it.
- `amendment_accept` (supervisor): the corrected record, made first through its own endpoint,
  is named as the `replacement`; the original is marked entered in error with a reason naming
  the request and the replacement, and the request names both, in one transaction.
- `amendment_deny` (supervisor): with the reason, in writing.
- `amendment_file_disagreement`: the patient's statement of disagreement with a denial, which
  goes with the record in every later copy (caseload/selectors/record_set.py).

Every state check runs on the locked request row (`record_update`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from caseload.errors import Conflict, InvalidInput
from caseload.models import (
    AmendmentRequest,
    AmendmentStatus,
    Assessment,
    AuditAction,
    CaseNote,
    CorrectableRecord,
    DrugScreen,
    MedicationRecord,
    Patient,
    Referral,
)
from caseload.permissions import DECIDE, require_may

from .records import ExpectedVersion, record_create, record_mark_entered_in_error, record_update

AMENDMENT_DAYS = 60
CLOCK_SKEW = timedelta(minutes=5)
AMENDABLE: dict[str, type[CorrectableRecord]] = {
    "assessment": Assessment,
    "medicationrecord": MedicationRecord,
    "drugscreen": DrugScreen,
    "referral": Referral,
    "casenote": CaseNote,
}


def amendment_request_create(
    *, actor, patient: Patient, fields: dict[str, Any]
) -> AmendmentRequest:
    """Record the patient's request; every missing or wrong field is named at once."""
    problems = amendment_request_problems(patient, fields)
    if problems:
        raise InvalidInput("The amendment request is incomplete.", errors=problems)
    requested_at: datetime = fields.get("requested_at") or timezone.now()
    change = fields["requested_change"].strip()
    found = amended_record(patient, fields.get("record"))
    if found is None:  # the record was there a moment ago
        raise InvalidInput("No such record.", code="does_not_exist", field="record")
    record_type, record = found
    return record_create(
        model=AmendmentRequest,
        actor=actor,
        patient=patient,
        program_id=patient.program_id,
        record_type=record_type,
        record_id=record.pk,
        requested_at=requested_at,
        requested_change=change,
        due_at=requested_at + timedelta(days=AMENDMENT_DAYS),
    )


def amendment_request_problems(
    patient: Patient, fields: dict[str, Any], failed: set[str] | frozenset = frozenset()
) -> list[tuple[str, str, str]]:
    """(field, code, message) for every field missing or wrong; fields in `failed` already
    have an error of their own."""
    problems: list[tuple[str, str, str]] = []
    requested_at = fields.get("requested_at")
    late = requested_at is not None and requested_at > timezone.now() + CLOCK_SKEW
    if "requested_at" not in failed and late:
        problems.append(("requested_at", "out_of_range", "A request is recorded once made."))
    if "requested_change" not in failed and not (fields.get("requested_change") or "").strip():
        problems.append(("requested_change", "required", "Say what the patient asks to change."))
    if "record" not in failed and amended_record(patient, fields.get("record")) is None:
        problems.append(
            (
                "record",
                "does_not_exist",
                "No record of this patient that can be amended has this id.",
            )
        )
    return problems


def amended_record(patient: Patient, record_id: Any) -> tuple[str, CorrectableRecord] | None:
    """(record type, record) of the patient's amendable record with this id, or None."""
    if not isinstance(record_id, uuid.UUID):
        return None
    for name, model in AMENDABLE.items():
        record = model.objects.filter(pk=record_id, patient=patient).first()
        if record is not None:
            return name, record
    return None


def amendment_accept(
    *,
    amendment: AmendmentRequest,
    actor,
    replacement: uuid.UUID,
    expected_version: ExpectedVersion = None,
) -> AmendmentRequest:
    """Accept: the original is marked entered in error, the replacement named, both linked."""
    require_may(actor, DECIDE, amendment)
    model = AMENDABLE[amendment.record_type]
    with transaction.atomic():
        original, new = _locked_pair(amendment, model, replacement)
        accepted = _decide(
            amendment,
            actor,
            expected_version,
            status=AmendmentStatus.ACCEPTED,
            replacement_id=new.pk,
        )
        if not original.is_entered_in_error:
            record_mark_entered_in_error(
                instance=original,
                actor=actor,
                reason=(
                    f"Amended at the patient's request (amendment {amendment.pk}); "
                    f"corrected record {new.pk}."
                ),
            )
    return accepted


def _locked_pair(amendment: AmendmentRequest, model, replacement: uuid.UUID):
    """(original, corrected record), both rows locked in key order so two decisions on
    crossing records cannot deadlock. The corrected record is of the same kind and patient,
    and not itself entered in error, as it stands under the lock: a correction racing the
    acceptance either lands first and is seen here, or waits for it."""
    wanted = {amendment.record_id, replacement} if isinstance(replacement, uuid.UUID) else set()
    rows = {
        row.pk: row
        for row in model.objects.select_for_update()
        .filter(pk__in=wanted, patient_id=amendment.patient_id)
        .order_by("pk")
    }
    new = rows.get(replacement)
    if new is None or new.pk == amendment.record_id:
        raise InvalidInput(
            "Name the corrected record: a record of the same kind, of the same patient.",
            code="does_not_exist",
            field="replacement",
        )
    if new.is_entered_in_error:
        raise InvalidInput(
            "The corrected record is itself entered in error.",
            code="entered_in_error",
            field="replacement",
        )
    return rows[amendment.record_id], new


def amendment_deny(
    *,
    amendment: AmendmentRequest,
    actor,
    reason: str,
    expected_version: ExpectedVersion = None,
) -> AmendmentRequest:
    """Deny in writing: the reason is required."""
    require_may(actor, DECIDE, amendment)
    if not (reason or "").strip():
        raise InvalidInput("A denial gives its reason.", code="required", field="reason")
    return _decide(
        amendment,
        actor,
        expected_version,
        status=AmendmentStatus.DENIED,
        denial_reason=reason.strip(),
    )


def _decide(
    amendment: AmendmentRequest, actor, expected_version: ExpectedVersion, **changes: Any
) -> AmendmentRequest:
    def guard(current: AmendmentRequest) -> None:
        if current.status != AmendmentStatus.PENDING:
            raise Conflict(
                f"The request is already {current.status}.", code=f"already_{current.status}"
            )

    return record_update(
        instance=amendment,
        actor=actor,
        changes=changes | {"decided_at": timezone.now(), "decided_by": actor},
        expected_version=expected_version,
        guard=guard,
        action=AuditAction.TRANSITION,
        audit_detail={"to": str(changes["status"])},
    )


def amendment_file_disagreement(
    *,
    amendment: AmendmentRequest,
    actor,
    statement: str,
    expected_version: ExpectedVersion = None,
) -> AmendmentRequest:
    """Attach the patient's statement of disagreement to a denied request (once)."""
    if not (statement or "").strip():
        raise InvalidInput("Give the patient's statement.", code="required", field="statement")

    def guard(current: AmendmentRequest) -> None:
        if current.status != AmendmentStatus.DENIED:
            raise Conflict(
                "A statement of disagreement follows a denial.", code="not_denied", field="status"
            )
        if current.disagreement:
            raise Conflict("A statement is already filed.", code="disagreement_filed")

    return record_update(
        instance=amendment,
        actor=actor,
        changes={"disagreement": statement.strip(), "disagreement_at": timezone.now()},
        expected_version=expected_version,
        guard=guard,
    )
