"""The sync feed page an integration client reads, timed in-process (no server, no network).

    # once: 2,000 patients and 50,000 appointments in one program, a QSOA integration client, and
    # a consent-basis client whose consents cover half the patients (among 12,000 consents of
    # six clients, some revoked)
    DATABASE_URL=postgres://root@127.0.0.1:5432/perf2_big .venv/bin/python bench/feed_page.py seed
    # then: mean milliseconds per request of the first feed page and of /api/v1/me/
    DATABASE_URL=postgres://root@127.0.0.1:5432/perf2_big .venv/bin/python bench/feed_page.py run

`run` also prints how many SQL queries one feed page runs, and the plan of the consent-basis
client's page query (`EXPLAIN ANALYZE`): the consent coverage must stay an index scan however many
consents there are. Only synthetic data is written.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

PATIENTS = 2_000
APPOINTMENTS = 50_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
STATE = Path(tempfile.gettempdir()) / "caseload_feed_page.json"
FEED = "/api/v1/appointments/?updated_since=1970-01-01T00:00:00Z&page_size=500"


def seed() -> None:
    import django

    django.setup()

    from bench.read_paths import client_access_token, seed_program
    from caseload.services.integrations import integration_create
    from caseload.services.tokens import token_issue

    program, supervisor = seed_program(
        code="feed", patients=PATIENTS, appointments=APPOINTMENTS, counselors=5, rng_seed=11
    )
    record, secret = integration_create(
        name="bench feed",
        program=program,
        scopes=["appointments:read", "patients:read"],
        basis="qsoa",
        actor=supervisor,
    )
    _, staff_token = token_issue(staff=supervisor, name="bench")
    consent_token = _seed_consents(program, supervisor)
    STATE.write_text(
        json.dumps(
            {
                "client": client_access_token(record, secret),
                "consent_client": consent_token,
                "staff": staff_token,
            }
        )
    )
    print(f"seeded; tokens in {STATE}")


def _seed_consents(program, supervisor) -> str:
    """A consent-basis client covering every other patient, five more clients covering all of
    them, and a revoked consent for a tenth: 12,000 consents in all. Rows are written in bulk
    (with their MACs) rather than one request each, to keep seeding quick."""
    from datetime import timedelta

    from django.utils import timezone

    from bench.read_paths import client_access_token
    from caseload.models import Consent, Patient
    from caseload.services.integrations import integration_create
    from caseload.tamper import row_mac

    clients = []
    for number in range(6):
        record, secret = integration_create(
            name=f"bench consent {number}",
            program=program,
            scopes=["appointments:read"],
            basis="consent",
            actor=supervisor,
        )
        clients.append((record, secret))
    now = timezone.now()
    patients = list(
        Patient.objects.filter(program=program).order_by("pk").values_list("pk", flat=True)
    )
    rows = []
    for index, patient_id in enumerate(patients):
        for number, (record, _) in enumerate(clients):
            if number == 0 and index % 2:
                continue  # the measured client covers every other patient
            rows.append(
                Consent(
                    program=program,
                    patient_id=patient_id,
                    recipient_name=record.name,
                    recipient_client=record.pk,
                    purpose="Appointment reminders (synthetic).",
                    information=["appointments"],
                    expires_at=now + timedelta(days=365),
                    signed_by="Synthetic patient",
                    signed_at=now - timedelta(days=1),
                    revocation_notice=True,
                    revoked_at=now if index % 10 == 3 and number == 1 else None,
                    created_by=supervisor,
                    updated_by=supervisor,
                )
            )
    for row in rows:
        row.mac = row_mac(row)
    Consent.objects.bulk_create(rows, batch_size=2000)
    record, secret = clients[0]
    print(f"consents: {len(rows)}")
    return client_access_token(record, secret)


def _time(client, path: str, token: str, **headers) -> tuple[float, int]:
    client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **headers)  # warm
    started = time.perf_counter()
    for _ in range(ROUNDS):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **headers)
    return (time.perf_counter() - started) / ROUNDS * 1000, response.status_code


def run() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    tokens = json.loads(STATE.read_text())
    client = Client()
    ms, code = _time(client, FEED, tokens["client"])
    print(f"feed page 500 (integration): {ms:.1f} ms ({code})")
    with CaptureQueriesContext(connection) as queries:
        client.get(FEED, HTTP_AUTHORIZATION=f"Bearer {tokens['client']}")
    print(f"feed page queries: {len(queries)}")
    ms, code = _time(client, FEED, tokens["consent_client"])
    print(f"feed page 500 (integration, basis consent): {ms:.1f} ms ({code})")
    with CaptureQueriesContext(connection) as queries:
        client.get(FEED, HTTP_AUTHORIZATION=f"Bearer {tokens['consent_client']}")
    page = next(q["sql"] for q in queries if 'FROM "caseload_appointment"' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {page}")
        print("plan of the consent-basis page query:")
        for (line,) in cursor.fetchall():
            print(f"  {line}")
    for token in ("staff",):
        ms, code = _time(client, "/api/v1/me/", tokens[token])
        print(f"/api/v1/me/ ({token}): {ms:.2f} ms ({code})")


if __name__ == "__main__":
    {"seed": seed, "run": run}[sys.argv[1]]()
