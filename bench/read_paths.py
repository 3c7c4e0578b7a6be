"""Read paths against a large program on PostgreSQL: requests per second through gunicorn.

    # once: a database of 10,000 patients and 200,000 appointments (about a minute)
    DATABASE_URL=postgres://root@127.0.0.1:5432/perf_big .venv/bin/python bench/read_paths.py seed
    # then: gunicorn with 2 sync workers on PORT, wrk against each read path
    DATABASE_URL=postgres://root@127.0.0.1:5432/perf_big .venv/bin/python bench/read_paths.py run

`run` prints, per path, requests per second and latency from wrk (2 connections, 10 s each),
the SQL each list page runs with its plan, the worker's resident memory, and the audit bytes one
500-row list read adds. It needs `wrk` on PATH. Only synthetic data is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

PATIENTS = 10_000
APPOINTMENTS = 200_000
PORT = int(os.environ.get("BENCH_PORT", "18110"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
TOKEN_FILE = Path(tempfile.gettempdir()) / "caseload_read_paths_token"


def seed_program(*, code: str, patients: int, appointments: int, counselors: int, rng_seed: int):
    """Migrate, then one synthetic program: a supervisor, counselors, patients and appointments
    (bulk-created, 20,000 at a time), analysed for the planner. Returns (program, supervisor)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from caseload.models import Appointment, Patient, Program
    from caseload.services.programs import staff_create

    call_command("migrate", "--no-input", verbosity=0)
    program = Program.objects.create(code=code, name=f"{code.title()} program (synthetic)")
    supervisor = staff_create(username=f"{code}.sup", program=program, role="supervisor")
    clinicians = [
        staff_create(username=f"{code}.c{i}", program=program, role="counselor")
        for i in range(counselors)
    ]
    rng = random.Random(rng_seed)
    now = datetime.now(UTC)
    rows = [
        Patient(
            program=program,
            mrn=f"{code[0].upper()}{i:06d}",
            given_name=f"Given{rng.randrange(10_000)}",
            family_name=f"Family{rng.randrange(10_000)}",
            birth_date=date(1960, 1, 1) + timedelta(days=rng.randrange(15_000)),
            phone="555-0100",
        )
        for i in range(patients)
    ]
    Patient.objects.bulk_create(rows, batch_size=2000)
    ids = [p.pk for p in rows]
    for chunk in range(0, appointments, 20_000):
        batch = []
        for _ in range(min(20_000, appointments - chunk)):
            start = now + timedelta(minutes=15 * rng.randrange(-200_000, 200_000))
            batch.append(
                Appointment(
                    id=uuid.uuid4(),
                    patient_id=rng.choice(ids),
                    program=program,
                    staff=rng.choice(clinicians),
                    kind="counseling",
                    start=start,
                    end=start + timedelta(minutes=45),
                    location="Room 1",
                )
            )
        Appointment.objects.bulk_create(batch, batch_size=5000)
        print(f"appointments: {chunk + len(batch)}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return program, supervisor


def client_access_token(record, secret: str) -> str:
    """An access token for an integration client, from `POST /o/token/` in-process (HTTP Basic,
    client credentials)."""
    import base64

    from django.test import Client

    basic = base64.b64encode(f"{record.application.client_id}:{secret}".encode()).decode()
    answer = Client().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    return answer.json()["access_token"]


def seed() -> None:
    _, supervisor = seed_program(
        code="big", patients=PATIENTS, appointments=APPOINTMENTS, counselors=20, rng_seed=7
    )
    from caseload.services.tokens import token_issue

    _, token = token_issue(staff=supervisor, name="bench")
    TOKEN_FILE.write_text(token)
    print(f"seeded; token in {TOKEN_FILE}")


@contextlib.contextmanager
def gunicorn():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.read_paths_app:application",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def wrk(path: str, token: str, headers: dict | None = None) -> tuple[float, str]:
    argv = ["wrk", "-t1", "-c2", f"-d{SECONDS}s", "-H", f"Authorization: Bearer {token}"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*argv, f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True, check=True
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    latency = re.search(r"Latency\s+(\S+)", done.stdout).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return rate, latency + (f" ({bad.group(1)} non-2xx/3xx!)" if bad else "")


def fetch(path: str, token: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}",
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def worker_rss_mib(master: int) -> list[float]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


def audit_bytes(token: str) -> dict[str, float]:
    """Bytes per patient id the audit tables grow by, over forty list reads each returning a
    set of patients never returned before (a page size not used before makes new sets)."""
    import psycopg

    size = 300 + secrets.randbelow(200)
    sizes_sql = (
        "SELECT pg_table_size('caseload_auditpatientset'),"
        " pg_relation_size('caseload_auditpatientset_patients')"
    )
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        before = conn.execute(sizes_sql).fetchone()
        ids = 0
        for page in range(2, 42):
            path = f"/api/v1/appointments/?page_size={size}&page={page}"
            status, _, body = fetch(path, token)
            assert status == 200, status
            ids += len({row["patient"] for row in json.loads(body)["results"]})
        after = conn.execute(sizes_sql).fetchone()
    grown = [a - b for a, b in zip(after, before, strict=True)]
    return {
        "page size": size,
        "patients named per page": ids / 40,
        "set table + TOAST bytes/id": grown[0] / ids,
        "set GIN index bytes/id": grown[1] / ids,
    }


def run() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")
    token = TOKEN_FILE.read_text().strip()
    with gunicorn() as server:
        status, headers, body = fetch("/api/v1/appointments/?page_size=1", token)
        assert status == 200, body
        one = json.loads(body)["results"][0]["id"]
        _, headers, _ = fetch(f"/api/v1/appointments/{one}/", token)
        etag = headers["ETag"]
        status, _, _ = fetch(f"/api/v1/appointments/{one}/", token, {"If-None-Match": etag})
        assert status == 304, status
        status, _, body = fetch("/api/v1/appointments/?page_size=500&page=400", token)
        assert status == 200, body
        cases = [
            ("bare Django view", "/bench-bare/", None),
            ("healthz", "/healthz", None),
            ("me (token)", "/api/v1/me/", None),
            ("appointment 200", f"/api/v1/appointments/{one}/", None),
            ("appointment 304", f"/api/v1/appointments/{one}/", {"If-None-Match": etag}),
            ("appointments page 1 x500", "/api/v1/appointments/?page_size=500", None),
            ("appointments page 400 x500", "/api/v1/appointments/?page_size=500&page=400", None),
            ("patients page 1 x500", "/api/v1/patients/?page_size=500", None),
            ("patients page 20 x500", "/api/v1/patients/?page_size=500&page=20", None),
            ("audit-events page 1 x500", "/api/v1/audit-events/?page_size=500", None),
        ]
        print(f"{'path':32} {'req/s':>8}  latency")
        for name, path, headers in cases:
            rate, latency = wrk(path, token, headers)
            print(f"{name:32} {rate:8.1f}  {latency}", flush=True)
        print("worker RSS MiB:", worker_rss_mib(server.pid))
        for name, value in audit_bytes(token).items():
            print(f"audit, {name}: {value:.1f}")


if __name__ == "__main__":
    {"seed": seed, "run": run}[sys.argv[1] if len(sys.argv) > 1 else "run"]()
