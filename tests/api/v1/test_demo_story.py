"""The demo program tells a story that holds together in time, read back through the API.

Nothing is recorded about a patient before the day of admission, and the induction runs in
order: last use, then the first COWS (symptoms need hours to appear), then the buprenorphine
order (docs/clinical-reference.md, section 2).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

# Offsets far from UTC on both sides catch dates taken in the wrong time zone.
ZONES = ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"]


def seed() -> dict[str, APIClient]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    payload = json.loads(out.getvalue().strip().splitlines()[-1])
    clients = {}
    for row in payload["staff"]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {row['token']}")
        clients[row["username"]] = client
    return clients


def local_day(stamp: str, zone: str) -> date:
    return datetime.fromisoformat(stamp).astimezone(ZoneInfo(zone)).date()


def record_day(entry: dict, zone: str) -> date:
    """The day a history entry happened, from the record's own field, in the server's zone."""
    record = entry["record"]
    field = {
        "enrollment": "admitted_on",
        "assessment": "administered_at",
        "medication": "start_date",
        "drug_screen": "collected_at",
        "referral": "referred_on",
        "appointment": "start",
        "note": "written_at",
        "placement": "assessed_at",
        "treatment_plan": "starts_on",
    }[entry["type"]]
    value = record[field]
    return date.fromisoformat(value) if len(value) == 10 else local_day(value, zone)


def patients_by_mrn(client: APIClient) -> dict[str, dict]:
    body = client.get("/api/v1/patients/", {"page_size": 100}).json()
    return {row["mrn"]: row for row in body["results"]}


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_nothing_is_recorded_before_the_patients_admission(settings, zone):
    settings.TIME_ZONE = zone
    supervisor = seed()["demo.supervisor"]

    for mrn, patient in patients_by_mrn(supervisor).items():
        history = supervisor.get(f"/api/v1/patients/{patient['id']}/history/").json()["results"]
        enrollments = [entry["record"] for entry in history if entry["type"] == "enrollment"]
        assert len(enrollments) == 1, mrn
        admitted = date.fromisoformat(enrollments[0]["admitted_on"])
        others = [entry for entry in history if entry["type"] != "enrollment"]
        assert others, mrn
        for entry in others:
            assert record_day(entry, zone) >= admitted, (mrn, entry["type"], entry["record"])


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_the_induction_runs_last_use_then_cows_then_the_order(settings, zone):
    settings.TIME_ZONE = zone
    clients = seed()
    prescriber = clients["demo.prescriber"]
    patient = patients_by_mrn(prescriber)["DEMO-0001"]

    trend = prescriber.get(f"/api/v1/patients/{patient['id']}/withdrawal-trend/").json()
    last_use = datetime.fromisoformat(trend["last_use_at"])
    series = {one["instrument"]: one["points"] for one in trend["series"]}
    cows_times = [datetime.fromisoformat(p["administered_at"]) for p in series["cows"]]
    assert len(cows_times) >= 3
    assert cows_times == sorted(cows_times)
    # The first COWS comes after withdrawal can have begun (6 h), the last one before now.
    assert cows_times[0] - last_use >= timedelta(hours=6)
    assert cows_times[-1] <= timezone.now()
    cows_scores = [p["total_score"] for p in series["cows"]]
    assert cows_scores == sorted(cows_scores, reverse=True)  # the induction relieves withdrawal
    assert cows_scores[0] >= 13  # moderate or worse before the first order
    sows_times = [datetime.fromisoformat(p["administered_at"]) for p in series["sows"]]
    assert min(sows_times) > last_use

    orders = prescriber.get("/api/v1/medications/", {"patient": patient["id"]}).json()["results"]
    assert [order["medication"] for order in orders] == ["buprenorphine"]
    assert date.fromisoformat(orders[0]["start_date"]) == local_day(
        series["cows"][0]["administered_at"], zone
    )
    enrollment = prescriber.get("/api/v1/enrollments/", {"patient": patient["id"]}).json()
    admitted = date.fromisoformat(enrollment["results"][0]["admitted_on"])
    assert (
        local_day(trend["last_use_at"], zone)
        <= admitted
        <= local_day(series["cows"][0]["administered_at"], zone)
    )


@pytest.mark.django_db
def test_the_missed_visit_and_positive_screen_follow_the_referral():
    counselor = seed()["demo.counselor"]
    patient = patients_by_mrn(counselor)["DEMO-0002"]
    query = {"patient": patient["id"]}

    referral = counselor.get("/api/v1/referrals/", query).json()["results"][0]
    appointments = counselor.get("/api/v1/appointments/", query).json()["results"]
    missed = next(row for row in appointments if row["status"] == "noshow")
    screen = counselor.get("/api/v1/drug-screens/", query).json()["results"][0]
    last_use = datetime.fromisoformat(patient["last_use_at"])

    assert referral["status"] == "attending"
    assert date.fromisoformat(referral["referred_on"]) < last_use.date()
    assert last_use < datetime.fromisoformat(missed["start"])
    assert datetime.fromisoformat(missed["start"]) < datetime.fromisoformat(screen["collected_at"])
    booked = [row for row in appointments if row["status"] == "booked"]
    assert booked
    assert all(datetime.fromisoformat(row["start"]) > last_use for row in booked)


@pytest.mark.django_db
def test_the_tour_shows_placements_signed_plans_and_a_coded_discharge():
    supervisor = seed()["demo.supervisor"]
    patients = patients_by_mrn(supervisor)
    first = supervisor.get("/api/v1/enrollments/", {"patient": patients["DEMO-0001"]["id"]})
    assert first.json()["results"][0]["asam_level"] == "3.7-WM"
    second = supervisor.get("/api/v1/placements/", {"patient": patients["DEMO-0002"]["id"]})
    placement = second.json()["results"][0]
    assert (placement["recommended_level"], placement["actual_level"]) == ("2.1", "1")
    plans = supervisor.get("/api/v1/treatment-plans/").json()["results"]
    assert sorted(p["status"] for p in plans) == ["signed", "signed"]
    left = supervisor.get("/api/v1/enrollments/", {"status": "discharged"}).json()["results"]
    assert [(e["discharge_reason"], e["patient"]) for e in left] == [
        ("transferred", patients["DEMO-0003"]["id"])
    ]
    census = supervisor.get("/api/v1/reports/census/").json()
    assert census["total"] == 3
