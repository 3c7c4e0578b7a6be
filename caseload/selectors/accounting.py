"""A patient's accounting of disclosures as the patient reads it (HIPAA 164.528, 42 CFR 2.24):
one entry per disclosure made outside the system, and one per series of disclosures the system
made to one recipient for one purpose (first, last, how many), each naming the recipient by
legal name and address, what was disclosed, why, and on what legal basis.

The recipient is named as the integration client's legal name and address when a client
received it (as recorded on the client now; its `name` when no legal name is recorded), else as
the consent relied on names it, else as the ledger row does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Min
from django.utils import timezone

from caseload.models import Consent, Disclosure, IntegrationClient, Patient, Staff

from .disclosures import disclosure_accounting


@dataclass
class AccountingEntry:
    recipient_name: str
    recipient_address: str
    first_disclosed_at: datetime
    last_disclosed_at: datetime
    count: int
    information: list[str]
    purpose: str
    basis: str
    consent: uuid.UUID | None = None
    emergency: str = ""
    disclosed_by: str = ""
    court_order_reference: str = ""
    recorded_at: datetime | None = None


@dataclass
class Accounting:
    program_name: str
    patient: Patient
    since: datetime
    until: datetime
    generated_at: datetime
    entries: list[AccountingEntry] = field(default_factory=list)


SERIES_KEY = ("client", "consent_id", "recipient_name", "recipient_address", "purpose", "basis")


def patient_accounting(
    *, user: Staff, patient: Patient, since: datetime, until: datetime
) -> Accounting:
    """The accounting from `since` to `until`, newest entry first, read in three queries
    however many disclosures the window holds (a feed writes one per page served)."""
    rows = disclosure_accounting(user=user, patient=patient, since=since, until=until)
    series = list(
        rows.filter(recorded_at__isnull=True)
        .order_by()
        .values(*SERIES_KEY, "information")
        .annotate(first=Min("disclosed_at"), last=Max("disclosed_at"), count=Count("id"))
    )
    recorded = list(rows.filter(recorded_at__isnull=False))
    clients = IntegrationClient.objects.in_bulk({s["client"] for s in series if s["client"]})
    consent_ids = {s["consent_id"] for s in series} | {r.consent_id for r in recorded}
    consents = Consent.objects.in_bulk({pk for pk in consent_ids if pk})
    entries = [_series_entry(s, clients, consents) for s in series]
    entries += [_recorded_entry(row) for row in recorded]
    entries = _merge_same(entries)
    entries.sort(key=lambda e: (e.last_disclosed_at, e.first_disclosed_at), reverse=True)
    return Accounting(
        program_name=patient.program.name,
        patient=patient,
        since=since,
        until=until,
        generated_at=timezone.now(),
        entries=entries,
    )


def _series_entry(
    series: dict, clients: dict, consents: dict[uuid.UUID, Consent]
) -> AccountingEntry:
    name, address = series["recipient_name"], series["recipient_address"]
    client = clients.get(series["client"]) if series["client"] else None
    consent = consents.get(series["consent_id"]) if series["consent_id"] else None
    if client is not None:
        name, address = client.legal_name or client.name, client.address or address
    elif consent is not None:
        name, address = consent.recipient_name, address or consent.recipient_address
    return AccountingEntry(
        recipient_name=name,
        recipient_address=address,
        first_disclosed_at=series["first"],
        last_disclosed_at=series["last"],
        count=series["count"],
        information=sorted(series["information"]),
        purpose=series["purpose"],
        basis=series["basis"],
        consent=series["consent_id"],
    )


def _recorded_entry(row: Disclosure) -> AccountingEntry:
    return AccountingEntry(
        recipient_name=row.recipient_name,
        recipient_address=row.recipient_address,
        first_disclosed_at=row.disclosed_at,
        last_disclosed_at=row.disclosed_at,
        count=1,
        information=sorted(row.information),
        purpose=row.purpose,
        basis=row.basis,
        consent=row.consent_id,
        emergency=row.emergency,
        disclosed_by=row.disclosed_by,
        court_order_reference=row.court_order_reference,
        recorded_at=row.recorded_at,
    )


def _merge_same(entries: list[AccountingEntry]) -> list[AccountingEntry]:
    """Series the database grouped apart that read the same to the patient (one client whose
    consent was renewed, say) become one entry."""
    merged: dict[tuple, AccountingEntry] = {}
    kept: list[AccountingEntry] = []
    for entry in entries:
        if entry.recorded_at is not None:
            kept.append(entry)
            continue
        key = (
            entry.recipient_name,
            entry.recipient_address,
            entry.purpose,
            entry.basis,
            tuple(entry.information),
        )
        same = merged.get(key)
        if same is None:
            merged[key] = entry
            continue
        same.first_disclosed_at = min(same.first_disclosed_at, entry.first_disclosed_at)
        same.last_disclosed_at = max(same.last_disclosed_at, entry.last_disclosed_at)
        same.count += entry.count
        if same.consent != entry.consent:
            same.consent = None  # more than one consent relied on: the ledger names each
    return kept + list(merged.values())
