"""The console's caseload and patient pages against a seeded program: latency and queries.

    # once: the standard profile (bench/seed.py), into its own database
    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard .venv/bin/python bench/seed.py \
        --profile standard --fresh
    # then: N signed-in requests per page, in process (Django's test client: no HTTP server)
    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard .venv/bin/python \
        bench/console_pages.py [--requests 200]

A counselor of the seeded program (about 250 patients on each caseload in `standard`) is given a
TOTP device and a verified session, as the console's sign-in leaves it. Each page is requested
`--requests` times after a warm-up: the caseload page (first page, by name, and sorted by last
COWS), a search, and the patient page of random patients on the caseload. Prints p50, p95 and
max in milliseconds and the queries each page ran. Every request is audited, as in production.
Only synthetic data is read and written.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def signed_in_client(staff):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=staff, name="bench", confirmed=True)
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure(client, urls: list[str], requests: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:5]:  # warm-up
        client.get(url)
    times = []
    queries = 0
    for index in range(requests):
        url = urls[index % len(urls)]
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return times, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db.models import Count

    from caseload.models import Enrollment, Staff

    counselor = (
        Staff.objects.filter(role="counselor", program__code="bench")
        .annotate(n=Count("counseled_enrollments"))
        .order_by("-n", "username")
        .first()
    )
    patients = list(
        Enrollment.objects.filter(counselor=counselor).values_list("patient_id", flat=True)
    )
    rng = random.Random(20261204)
    client = signed_in_client(counselor)
    pages = {
        "caseload (by name)": ["/console/caseload/"],
        "caseload (by last COWS)": ["/console/caseload/?sort=-cows"],
        "caseload (search)": ["/console/caseload/?q=a"],
        "patient page": [
            f"/console/patients/{p}/" for p in rng.sample(patients, min(50, len(patients)))
        ],
    }
    print(f"counselor {counselor.username}: {len(patients)} patients on the caseload")
    print(f"{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}")
    for name, urls in pages.items():
        times, queries = measure(client, urls, args.requests)
        print(
            f"{name:<26}{statistics.median(times):>9.1f}{percentile(times, 0.95):>9.1f}"
            f"{max(times):>9.1f}{queries:>9}"
        )


if __name__ == "__main__":
    main()
