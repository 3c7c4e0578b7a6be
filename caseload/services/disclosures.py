"""The disclosure ledger: one entry per patient per payload served to an integration client.

Minimal form for the integrations; the compliance aggregate (accounting of disclosures, the
ledger API) builds on the same `Disclosure` rows and this function's signature.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from caseload.models import Disclosure, IntegrationClient, Patient


def disclosures_record(
    *,
    client: IntegrationClient,
    patients: Iterable[Patient | object],
    information: list[str],
    purpose: str,
    basis: str,
    consents: dict | None = None,
) -> int:
    """Record that `information` about each of `patients` went to `client`: one row each,
    written in one INSERT. `consents` maps a patient id to the consent relied on (basis
    `consent`). Returns how many entries were written.
    """
    now = timezone.now()
    ids = sorted({str(getattr(p, "pk", p)) for p in patients})
    consents = {str(k): v for k, v in (consents or {}).items()}
    entries = [
        Disclosure(
            patient_id=patient_id,
            disclosed_at=now,
            recipient_name=client.name,
            client=client,
            information=list(information),
            purpose=purpose,
            basis=basis,
            consent_id=consents.get(patient_id),
        )
        for patient_id in ids
    ]
    Disclosure.objects.bulk_create(entries)
    return len(entries)
