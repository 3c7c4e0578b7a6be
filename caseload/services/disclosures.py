"""The disclosure ledger: one row per patient for everything that leaves the program.

`ledger_disclosure` is the one way a disclosure is written: exports call it, and so will every
payload served to an integration client. It writes a page of disclosures in one INSERT and one
`disclose` audit event naming every patient, inside the caller's transaction, and refuses a
disclosure no basis covers:

- `consent`: each patient has an active consent (42 CFR 2.31) naming this recipient (the
  integration client, or the recipient's name) and covering every kind of information sent;
  counseling notes only under a consent that names notes alone, and never with anything else.
- `qsoa`: a qualified service organization agreement covers the recipient; no consent needed.

`ledger_client_disclosures` is the integrations' batched form of the same ledger write: the feed's
access policy has already chosen the patients (and the consents relied on), so it writes the
page's rows in one INSERT and leaves the page's audit event to the list that served it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from caseload.context import current_request
from caseload.errors import Forbidden, InvalidInput
from caseload.models import (
    AuditAction,
    Consent,
    Disclosure,
    DisclosureBasis,
    InformationCategory,
    IntegrationClient,
    Patient,
)
from caseload.permissions import staff_or_none
from caseload.tamper import row_mac, sibling_macs, template_macs

from .audit import audit_event

NOTES = InformationCategory.NOTES


def ledger_disclosure(
    *,
    patients: Sequence[Patient],
    recipient_name: str,
    purpose: str,
    information: Iterable[str],
    basis: str,
    client: uuid.UUID | None = None,
    actor=None,
    consents: dict[Any, Consent] | None = None,
    disclosed_at: datetime | None = None,
    audit_action: str = AuditAction.DISCLOSE,
) -> list[Disclosure]:
    """Ledger one disclosure per patient (one INSERT) and audit it (one event).

    With basis `consent`, `consents` may map patient id -> the consent relied on; otherwise
    each patient's covering consent is looked up (one query for the page). A patient no active
    consent covers refuses the whole page (403, `no_consent`), and nothing is written.
    """
    information = _checked(information, basis)
    if not patients:
        return []
    if basis == DisclosureBasis.CONSENT:
        consents = consents or _consents_for_every_patient(
            patients, information, client=client, recipient_name=recipient_name
        )
    request = current_request()
    shared = {
        "disclosed_at": disclosed_at or timezone.now(),
        "recipient_name": recipient_name,
        "client": client,
        "information": information,
        "purpose": purpose,
        "basis": basis,
        "actor": staff_or_none(actor),
        "request_id": request.request_id if request is not None else "",
    }
    relied_on = consents if basis == DisclosureBasis.CONSENT else {}
    rows = [
        Disclosure(program_id=p.program_id, patient=p, consent=relied_on.get(p.pk), **shared)
        for p in patients
    ]
    for row in rows:
        row.mac = row_mac(row)
    detail = {"count": len(rows), "basis": basis, "information": information}
    detail |= {"recipient_name": recipient_name} | ({"client": str(client)} if client else {})
    with transaction.atomic():  # the ledger and its audit event, or neither
        Disclosure.objects.bulk_create(rows)
        audit_event(
            actor=actor,
            action=audit_action,
            resource_type="disclosure",
            patient_ids=[p.pk for p in patients],
            program_id=patients[0].program_id,
            detail=detail,
        )
    return rows


def _checked(information: Iterable[str], basis: str) -> list[str]:
    """The categories disclosed, sorted, once they and the basis are valid."""
    information = sorted(set(information))
    _check_information(information)
    if basis not in DisclosureBasis.values:
        raise InvalidInput("Unknown basis.", code="invalid_choice", field="basis")
    return information


def _consents_for_every_patient(
    patients: Sequence[Patient], information: list[str], *, client, recipient_name: str
) -> dict[Any, Consent]:
    """Each patient's covering consent; 403 `no_consent` if any patient has none."""
    consents = consents_covering(
        patients=patients, information=information, client=client, recipient_name=recipient_name
    )
    if any(p.pk not in consents for p in patients):
        raise Forbidden(
            "No active consent covers this disclosure for every patient.",
            code="no_consent",
            field="consent",
        )
    return consents


def consents_covering(
    *,
    patients: Sequence[Patient],
    information: Sequence[str],
    client: uuid.UUID | None = None,
    recipient_name: str = "",
    now: datetime | None = None,
) -> dict[Any, Consent]:
    """Patient id -> an active consent naming this recipient and covering `information`."""
    named = {"recipient_client": client} if client else {"recipient_name__iexact": recipient_name}
    candidates = (
        Consent.objects.active(now)
        .filter(patient__in=list(patients), **named)
        .order_by("patient_id", "-signed_at")
        .only("id", "patient_id", "information")
    )
    covering: dict[Any, Consent] = {}
    for consent in candidates:
        if consent.patient_id not in covering and consent.covers(information):
            covering[consent.patient_id] = consent
    return covering


def _check_information(information: list[str]) -> None:
    if not information:
        raise InvalidInput("Name what is disclosed.", code="required", field="information")
    unknown = set(information) - set(InformationCategory.values)
    if unknown:
        raise InvalidInput(
            "Unknown kind of information.", code="invalid_choice", field="information"
        )
    if NOTES in information and len(information) > 1:
        raise InvalidInput(
            "Counseling notes are never disclosed together with other information.",
            code="notes_not_alone",
            field="information",
        )


def ledger_client_disclosures(
    *,
    client: IntegrationClient,
    patients: Iterable[Patient | object],
    information: list[str],
    purpose: str,
    basis: str,
    consents: dict | None = None,
) -> int:
    """Ledger `information` about each of `patients` (objects or ids) sent to `client`: one row
    each, one INSERT. `consents` maps a patient id to the consent relied on (basis `consent`)."""
    now = timezone.now()
    request = current_request()
    ids = sorted({str(getattr(p, "pk", p)) for p in patients})
    if not ids:
        return 0
    relied_on = {str(k): str(v) for k, v in (consents or {}).items()}
    shared = {
        "program_id": client.program_id,
        "disclosed_at": now,
        "recipient_name": client.name,
        "client": client.pk,
        "information": sorted(set(information)),
        "purpose": purpose,
        "basis": basis,
        "request_id": request.request_id if request is not None else "",
    }
    if connection.vendor != "postgresql":
        rows = [Disclosure(patient_id=pk, consent_id=relied_on.get(pk), **shared) for pk in ids]
        macs = sibling_macs(rows, ("id", "patient_id", "consent_id"))
        for row, mac in zip(rows, macs, strict=True):
            row.mac = mac
        Disclosure.objects.bulk_create(rows)
        return len(ids)
    # One row built for what the rows share; each row is that with its id, patient and consent.
    template = Disclosure(patient_id=ids[0], **shared)
    varying = [
        {"id": uuid.uuid4(), "patient_id": pk, "consent_id": relied_on.get(pk)} for pk in ids
    ]
    _ledger_insert_unnest(varying, template_macs(template, varying), shared)
    return len(ids)


def _ledger_insert_unnest(varying: list[dict], macs: list[str], shared: dict) -> None:
    """The page's rows in one INSERT … SELECT FROM unnest(): the columns every row shares are
    sent once, the ids, patients, consents and MACs as four arrays, and no row is built or
    compiled by the ORM (on a 500-row feed page the instances cost more than the insert)."""
    columns = ", ".join(_SHARED_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_SHARED_COLUMNS))
    table = connection.ops.quote_name(Disclosure._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, patient_id, consent_id, mac, {columns}) "  # noqa: S608 - names are ours
            f"SELECT p.id, p.patient, p.consent, p.mac, {placeholders} "
            "FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::text[])"
            " AS p(id, patient, consent, mac)",
            [
                *(_column_value(name, shared) for name in _SHARED_COLUMNS),
                [row["id"] for row in varying],
                [row["patient_id"] for row in varying],
                [row["consent_id"] for row in varying],
                macs,
            ],
        )


def _column_value(column: str, shared: dict) -> Any:
    """A shared column's value as the ORM would send it (the JSON field as JSON)."""
    field = _FIELD_OF_COLUMN[column]
    return field.get_db_prep_save(shared[field.attname], connection)


_FIELD_OF_COLUMN = {
    field.column: field
    for field in Disclosure._meta.concrete_fields
    if field.attname
    in (
        "program_id",
        "disclosed_at",
        "recipient_name",
        "client",
        "information",
        "purpose",
        "basis",
        "request_id",
    )
}
_SHARED_COLUMNS = tuple(sorted(_FIELD_OF_COLUMN))
