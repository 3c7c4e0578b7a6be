"""How often a disclosure outruns the revocation of the consent it relies on.

    DATABASE_URL=postgres://... .venv/bin/python bench/disclosure_races.py [--rounds 75]

Against the real stack in-process (Django's test client, one database connection per thread),
on a throwaway program of synthetic people, each round starts two requests at the same moment:

- exports: `POST /patients/{id}/export/` under a consent, and `POST /consents/{id}/revoke/`.
  Counted: exports answered 200, and those whose ledger row is dated after the consent's
  `revoked_at` (a disclosure the law no longer allowed).
- pages: a consent-basis integration client's `GET /appointments/` over six consenting patients,
  and the revocation of one of their consents. Counted: pages whose patients differ from the
  patients the ledger recorded for that page.

Prints one line per race. PostgreSQL only (SQLite runs one writer at a time).
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.read_paths import client_access_token  # noqa: E402
from caseload.models import Consent, Disclosure  # noqa: E402
from caseload.services.appointments import appointment_create  # noqa: E402
from caseload.services.consents import consent_create  # noqa: E402
from caseload.services.enrollments import enrollment_create  # noqa: E402
from caseload.services.patients import patient_create  # noqa: E402
from caseload.services.programs import program_create, staff_create  # noqa: E402
from caseload.services.tokens import token_issue  # noqa: E402
from tests.concurrency import at_once  # noqa: E402

PASSWORD = "bench-Passphrase-4711"  # noqa: S105 - synthetic staff of a throwaway program


def client_for(staff) -> Client:
    _, raw = token_issue(staff=staff)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def consent_for(actor, patient, *, client=None):
    fields = {
        "recipient_name": "Bench recipient",
        "purpose": "Benchmark of racing revocations.",
        "information": ["appointments"],
        "expires_at": timezone.now() + timedelta(days=30),
        "signed_by": "The patient (synthetic)",
        "signed_at": timezone.now() - timedelta(hours=1),
        "revocation_notice": True,
        "redisclosure_statement": True,
        "treatment_not_conditioned_statement": True,
        "signer_role": "patient",
    }
    if client is not None:
        fields["recipient_client"] = client.pk
    return consent_create(actor=actor, patient=patient, fields=fields)


def new_patient(supervisor, counselor, number: int):
    patient = patient_create(
        actor=supervisor,
        fields={
            "mrn": f"R-{uuid.uuid4().hex[:8]}",
            "given_name": f"Synthetic{number}",
            "family_name": "Racer",
            "birth_date": "1990-01-01",
        },
    )
    enrollment_create(
        actor=supervisor,
        patient=patient,
        fields={
            "level_of_care": "outpatient",
            "counselor": counselor,
            "admitted_on": timezone.localdate(),
        },
    )
    return patient


def race_exports(supervisor, counselor, rounds: int) -> str:
    patient = new_patient(supervisor, counselor, 0)
    exporter, revoker = client_for(counselor), client_for(counselor)
    answered, late = 0, 0
    for _ in range(rounds):
        given = consent_for(counselor, patient)
        before = set(Disclosure.objects.values_list("pk", flat=True))
        exported, _ = at_once(
            lambda c=given: (
                exporter.post(
                    f"/api/v1/patients/{patient.pk}/export/",
                    {"consent": str(c.pk)},
                    content_type="application/json",
                ).status_code
            ),
            lambda c=given: revoker.post(f"/api/v1/consents/{c.pk}/revoke/").status_code,
        )
        revoked_at = Consent.objects.get(pk=given.pk).revoked_at
        answered += exported == 200
        late += (
            Disclosure.objects.exclude(pk__in=before).filter(disclosed_at__gte=revoked_at).count()
        )
    return (
        f"exports: {rounds} racing a revocation, {answered} answered 200, "
        f"{late} ledgered at or after revoked_at"
    )


def race_pages(supervisor, counselor, program, rounds: int) -> str:
    from caseload.services.integrations import integration_create

    client, secret = integration_create(
        name=f"bench-{uuid.uuid4().hex[:6]}",
        program=program,
        scopes=["appointments:read"],
        basis="consent",
        actor=supervisor,
    )
    token = client_access_token(client, secret)
    reader, revoker = Client(HTTP_AUTHORIZATION=f"Bearer {token}"), client_for(counselor)
    start = timezone.now() + timedelta(days=3)
    mismatched = 0
    for number in range(rounds):
        consents = []
        for index in range(6):
            patient = new_patient(supervisor, counselor, number * 10 + index)
            slot = start + timedelta(days=number, hours=index)
            appointment_create(
                actor=supervisor,
                patient=patient,
                fields={
                    "staff": counselor,
                    "kind": "counseling",
                    "start": slot,
                    "end": slot + timedelta(minutes=50),
                },
            )
            consents.append(consent_for(counselor, patient, client=client))
        before = set(Disclosure.objects.values_list("pk", flat=True))
        page, _ = at_once(
            lambda: reader.get("/api/v1/appointments/", {"page_size": 1000}),
            lambda c=consents[0]: revoker.post(f"/api/v1/consents/{c.pk}/revoke/").status_code,
        )
        sent = {row["patient"] for row in page.json()["results"]}
        ledgered = {
            str(pk)
            for pk in Disclosure.objects.exclude(pk__in=before).values_list("patient_id", flat=True)
        }
        mismatched += sent != ledgered
        for given in consents[1:]:
            revoker.post(f"/api/v1/consents/{given.pk}/revoke/")
    return (
        f"pages: {rounds} racing a revocation, "
        f"{mismatched} sent other patients than the ledger recorded"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=75)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL=postgres://…: the race needs PostgreSQL.")
    setup_test_environment()
    program = program_create(code=f"race{uuid.uuid4().hex[:6]}", name="Race bench (synthetic)")
    supervisor = staff_create(
        username=f"{program.code}.supervisor",
        program=program,
        role="supervisor",
        password=PASSWORD,
    )
    counselor = staff_create(
        username=f"{program.code}.counselor",
        program=program,
        role="counselor",
        password=PASSWORD,
    )
    print(race_exports(supervisor, counselor, args.rounds))
    print(race_pages(supervisor, counselor, program, args.rounds))


if __name__ == "__main__":
    main()
