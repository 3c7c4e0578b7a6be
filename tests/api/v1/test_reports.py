"""Program reports: census, admissions and discharges, plan reviews and continuity of
pharmacotherapy, for supervisors, as JSON and CSV, every read audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseload.models import AuditEvent
from caseload.services.enrollments import enrollment_discharge
from caseload.services.placements import placement_record
from tests.conftest import integration_for
from tests.factories import (
    EnrollmentFactory,
    MedicationRecordFactory,
    PatientFactory,
    signed_plan,
)

BASE = "/api/v1/reports/"


def today() -> date:
    return timezone.localdate()


def admit(supervisor, counselor, *, days_ago: int, prescriber=None, birth_date=None, **extra):
    fields = {"birth_date": birth_date} if birth_date else {}
    patient = PatientFactory(actor=supervisor, **fields)
    enrollment = EnrollmentFactory(
        actor=supervisor,
        patient=patient,
        counselor=counselor,
        prescriber=prescriber,
        admitted_on=today() - timedelta(days=days_ago),
        treatment_consent_signed_at=timezone.now() - timedelta(days=days_ago),
        **extra,
    )
    return patient, enrollment


def place(counselor, enrollment, level: str, *, days_ago: int):
    return placement_record(
        actor=counselor,
        enrollment=enrollment,
        fields={
            "assessed_at": timezone.now() - timedelta(days=days_ago),
            **{f"dimension_{n}": 1 for n in range(1, 7)},
            "recommended_level": level,
            "actual_level": level,
        },
    )


def test_the_census_counts_episodes_in_care_on_a_day_by_level(
    as_user, supervisor, counselor, foreign_patient
):
    _, placed = admit(supervisor, counselor, days_ago=20)
    place(counselor, placed, "3.5", days_ago=19)
    place(counselor, placed, "2.1", days_ago=2)  # after the day counted
    admit(supervisor, counselor, days_ago=15)  # outpatient, no placement
    _, left = admit(supervisor, counselor, days_ago=30)
    enrollment_discharge(
        enrollment=left, actor=supervisor, discharged_on=today() - timedelta(days=12),
        reason="completed",
    )  # fmt: skip
    admit(supervisor, counselor, days_ago=10, status="intake")  # not yet in care
    on = (today() - timedelta(days=10)).isoformat()
    response = as_user(supervisor).get(f"{BASE}census/", {"on": on})
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "report": "census",
        "program": "riverside",
        "on": on,
        "total": 2,
        "rows": [
            {"level_of_care": "inpatient", "asam_level": "3.5", "count": 1},
            {"level_of_care": "outpatient", "asam_level": "", "count": 1},
        ],
    }
    event = AuditEvent.objects.get(action="read", resource_type="report", actor=supervisor)
    assert (event.resource_id, event.detail["report"], event.detail["on"]) == (
        "census",
        "census",
        on,
    )
    assert event.request_id == response["X-Request-ID"]


def test_a_report_answers_csv_when_asked(as_user, supervisor, counselor, patient):
    response = as_user(supervisor).get(f"{BASE}census/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode() == ("level_of_care,asam_level,count\r\noutpatient,,1\r\n")
    event = AuditEvent.objects.get(action="read", resource_type="report")
    assert event.detail["format"] == "csv"
    by_query = as_user(supervisor).get(f"{BASE}census/", {"format": "csv"})
    assert by_query.content == response.content


def test_admissions_and_discharges_by_month_and_reason(as_user, supervisor, counselor):
    start = today().replace(day=1) - timedelta(days=1)  # the last day of last month
    _, first = admit(supervisor, counselor, days_ago=(today() - start).days)
    admit(supervisor, counselor, days_ago=0)
    enrollment_discharge(
        enrollment=first, actor=supervisor, discharged_on=today(), reason="transferred",
        detail="Nearer home.",
    )  # fmt: skip
    response = as_user(supervisor).get(
        f"{BASE}admissions-discharges/", {"from": start.isoformat(), "to": today().isoformat()}
    )
    assert response.status_code == 200, response.json()
    rows = response.json()["rows"]
    assert [r["month"] for r in rows] == [start.strftime("%Y-%m"), today().strftime("%Y-%m")]
    assert (rows[0]["admissions"], rows[0]["discharges"]) == (1, 0)
    assert (rows[1]["admissions"], rows[1]["discharges"], rows[1]["transferred"]) == (1, 1, 1)
    assert rows[1]["completed"] == 0
    csv = as_user(supervisor).get(
        f"{BASE}admissions-discharges/", {"from": start.isoformat()}, HTTP_ACCEPT="text/csv"
    )
    header = csv.content.decode().splitlines()[0]
    assert header == (
        "month,admissions,discharges,completed,dropped_out,terminated,transferred,"
        "incarcerated,died,other"
    )


def test_plan_reviews_lists_overdue_and_due_and_names_the_patients_in_the_audit(
    as_user, supervisor, counselor
):
    plans = []
    for days_due in (-3, 10, 200):
        patient, enrollment = admit(supervisor, counselor, days_ago=5)
        plan = signed_plan(
            counselor=counselor,
            enrollment=enrollment,
            review_due_on=today() + timedelta(days=days_due),
        )
        plans.append((plan, patient))
    body = as_user(supervisor).get(f"{BASE}plan-reviews/").json()
    assert (body["overdue"], body["due"]) == (1, 1)
    assert [(r["plan"], r["state"]) for r in body["rows"]] == [
        (str(plans[0][0].pk), "overdue"),
        (str(plans[1][0].pk), "due"),
    ]
    event = AuditEvent.objects.get(resource_type="report", resource_id="plan-reviews")
    assert sorted(event.patient_set.patients, key=str) == sorted(
        [plans[0][1].pk, plans[1][1].pk], key=str
    )


def test_continuity_of_pharmacotherapy_over_an_admission_cohort(
    as_user, supervisor, counselor, prescriber
):
    def episode(*spans, birth_date=None, medication="methadone"):
        patient, _ = admit(
            supervisor, counselor, days_ago=400, prescriber=prescriber, birth_date=birth_date
        )
        for start, end in spans:
            MedicationRecordFactory(
                actor=prescriber,
                patient=patient,
                medication=medication,
                start_date=today() - timedelta(days=start),
                end_date=None if end is None else today() - timedelta(days=end),
            )

    episode((399, None))  # continuous since admission: counted
    episode((399, 300), (294, 215))  # 100 + 80 covered days, a 5-day gap: counted
    episode((399, 300), (289, 200))  # a 10-day gap breaks it: not counted
    episode((399, None), birth_date=today() - timedelta(days=365 * 17))  # not an adult
    episode()  # no pharmacotherapy: not in the denominator
    episode((399, None), medication="clonidine")  # not a medication for OUD
    response = as_user(supervisor).get(f"{BASE}pharmacotherapy-continuity/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["admitted"], body["with_pharmacotherapy"], body["continuous"], body["rate"]) == (
        5,
        3,
        2,
        0.6667,
    )
    assert body["cohort_to"] == (today() - timedelta(days=180)).isoformat()
    csv = (
        as_user(supervisor)
        .get(f"{BASE}pharmacotherapy-continuity/", HTTP_ACCEPT="text/csv")
        .content.decode()
    )
    assert csv.splitlines()[0] == (
        "cohort_from,cohort_to,as_of,admitted,with_pharmacotherapy,continuous,rate"
    )
    assert csv.splitlines()[1].endswith(",5,3,2,0.6667")


@pytest.mark.parametrize(
    "path",
    ["census/", "admissions-discharges/", "plan-reviews/", "pharmacotherapy-continuity/"],
)
def test_reports_are_for_the_programs_supervisors_only(
    as_user, counselor, prescriber, front_desk, anonymous, other_program_staff, patient,
    program, path,
):  # fmt: skip
    for persona in (counselor, prescriber, front_desk):
        refused = as_user(persona).get(f"{BASE}{path}")
        assert refused.status_code == 403
    assert AuditEvent.objects.filter(outcome="denied", resource_type="report").count() == 3
    assert anonymous.get(f"{BASE}{path}").status_code == 401
    assert integration_for(program).get(f"{BASE}{path}").status_code == 403
    foreign = as_user(other_program_staff).get(f"{BASE}{path}")
    assert foreign.status_code == 200
    assert foreign.json()["program"] == "hillside"
    assert not any(row.get("count") or row.get("admitted") for row in foreign.json()["rows"])


def test_the_census_of_another_program_counts_none_of_ours(as_user, other_program_staff, patient):
    body = as_user(other_program_staff).get(f"{BASE}census/").json()
    assert (body["total"], body["rows"]) == (0, [])


@pytest.mark.parametrize(
    ("path", "query", "fields"),
    [
        ("census/", {"on": "2026-13-01"}, {"on"}),
        ("census/", {"on": "yesterday", "colour": "blue"}, {"on", "colour"}),
        ("admissions-discharges/", {"from": "2026-06-01", "to": "2026-01-01"}, {"from"}),
        ("admissions-discharges/", {"from": "1990-01-01", "to": "2026-01-01"}, {"from"}),
        ("pharmacotherapy-continuity/", {"cohort_from": "2026-02-01",
                                         "cohort_to": "2026-01-01"}, {"cohort_from"}),
        ("plan-reviews/", {"on": "2026-01-01"}, {"on"}),
    ],
)  # fmt: skip
def test_bad_report_parameters_are_a_400_naming_each(as_user, supervisor, path, query, fields):
    response = as_user(supervisor).get(f"{BASE}{path}", query)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert not AuditEvent.objects.filter(resource_type="report", outcome="allowed").exists()


def test_the_census_reads_in_the_same_number_of_queries_at_any_size(as_user, supervisor, counselor):
    def queries() -> int:
        api = as_user(supervisor)
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"{BASE}census/").status_code == 200
        return len(captured)

    for _ in range(2):
        _, enrollment = admit(supervisor, counselor, days_ago=5)
        place(counselor, enrollment, "1", days_ago=4)
    small = queries()
    for _ in range(20):
        _, enrollment = admit(supervisor, counselor, days_ago=5)
        place(counselor, enrollment, "3.7", days_ago=4)
    assert queries() == small
