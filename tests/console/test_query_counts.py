"""Each console page runs the same number of queries however many patients and records it
shows: every column is part of the page's own query, never one query per row."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseload.models import Enrollment
from caseload.services.placements import placement_record
from caseload.services.treatment_plans import (
    treatment_plan_create,
    treatment_plan_review,
    treatment_plan_sign,
)
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    CaseNoteFactory,
    DrugScreenFactory,
    EnrollmentFactory,
    PatientFactory,
    StaffFactory,
    signed_plan,
)

from .conftest import booked_today, console_for, placement_fields, plan_fields


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_patients(n: int, *, supervisor, counselor) -> list:
    made = []
    for _ in range(n):
        patient = PatientFactory(actor=supervisor, last_use_at=timezone.now() - timedelta(days=2))
        EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselor)
        AssessmentFactory(actor=counselor, patient=patient)
        made.append(patient)
    return made


CASELOAD_PAGES = ("/console/", "/console/caseload/", "/console/caseload/?sort=-cows",
                  "/console/caseload/?q=a", "/console/alerts/")  # fmt: skip


def warm_queries(client, url: str) -> int:
    """Queries of a page's second look: a list page's first look at a set of patients also
    records the set once for the audit log (three queries), whatever its size."""
    client.get(url)
    return queries(client, url)


def test_the_caseload_pages_cost_the_same_for_10_and_1000_patients(supervisor, counselor):
    client = console_for(counselor)
    first = add_patients(10, supervisor=supervisor, counselor=counselor)
    pages = (*CASELOAD_PAGES, f"/console/patients/{first[0].pk}/")
    few = [warm_queries(client, url) for url in pages]
    add_patients(990, supervisor=supervisor, counselor=counselor)

    assert [warm_queries(client, url) for url in pages] == few
    assert queries(console_for(supervisor), "/console/caseload/") == queries(
        console_for(supervisor), "/console/caseload/?sort=-cows"
    )


def test_the_patient_page_costs_the_same_for_few_and_many_records(counselor, patient):
    client = console_for(counselor)
    url = f"/console/patients/{patient.pk}/"
    AssessmentFactory(actor=counselor, patient=patient)
    CaseNoteFactory(actor=counselor, patient=patient)
    DrugScreenFactory(actor=counselor, patient=patient)
    few = queries(client, url)
    for _ in range(6):
        AssessmentFactory(actor=counselor, patient=patient)
        CaseNoteFactory(actor=counselor, patient=patient)
        DrugScreenFactory(actor=counselor, patient=patient)
        AppointmentFactory(actor=counselor, patient=patient, staff=counselor)

    # appointments appear too: their versions join the one query over every history table
    assert queries(client, url) == few


def test_today_costs_the_same_for_few_and_many_appointments(supervisor, counselor):
    client = console_for(counselor)
    patients = add_patients(6, supervisor=supervisor, counselor=counselor)
    for index, patient in enumerate(patients[:2]):
        booked_today(
            actor=supervisor, patient=patient, staff=counselor, minute=index, overlap_allowed=True
        )
    queries(client, "/console/")  # the audit stores each new set of patients once
    few = queries(client, "/console/")
    for index, patient in enumerate(patients[2:], start=2):
        booked_today(
            actor=supervisor, patient=patient, staff=counselor, minute=index, overlap_allowed=True
        )

    queries(client, "/console/")
    assert queries(client, "/console/") == few


def plans_due(n: int, *, supervisor, counselor) -> None:
    due = timezone.localdate() + timedelta(days=5)
    for patient in add_patients(n, supervisor=supervisor, counselor=counselor):
        enrollment = Enrollment.objects.get(patient=patient)
        signed_plan(counselor=counselor, enrollment=enrollment, review_due_on=due)


def test_the_program_pages_cost_the_same_for_few_and_many_rows(supervisor, counselor):
    client = console_for(supervisor)
    urls = [
        "/console/reports/?report=census",
        "/console/reports/?report=admissions-discharges",
        "/console/reports/?report=plan-reviews",
        "/console/reports/?report=pharmacotherapy-continuity",
        "/console/staff/",
        "/console/care-team/",
    ]
    plans_due(2, supervisor=supervisor, counselor=counselor)
    StaffFactory(program=supervisor.program, role="prescriber")
    for url in urls:
        queries(client, url)  # the audit stores each new set of patients once
    few = [queries(client, url) for url in urls]
    plans_due(8, supervisor=supervisor, counselor=counselor)
    for _ in range(8):
        StaffFactory(program=supervisor.program, role="prescriber")
    for url in urls:
        queries(client, url)

    assert [queries(client, url) for url in urls] == few


def test_the_plan_and_level_of_care_sections_cost_the_same_for_few_and_many_records(
    counselor, patient
):
    """Both sections are read from the history the page loads anyway: more placements and
    more reviews of the plan cost no query."""
    client = console_for(counselor)
    url = f"/console/patients/{patient.pk}/"
    enrollment = patient.enrollments.get()
    plan = treatment_plan_create(
        actor=counselor, enrollment=enrollment, fields=plan_fields(counselor)
    )
    plan = treatment_plan_sign(plan=plan, actor=counselor)
    placement_record(actor=counselor, enrollment=enrollment, fields=placement_fields())
    few = queries(client, url)
    for hours in range(3, 9):
        assessed_at = timezone.now() - timedelta(hours=hours)
        placement_record(
            actor=counselor, enrollment=enrollment, fields=placement_fields(assessed_at=assessed_at)
        )
        plan = treatment_plan_review(plan=plan, actor=counselor, note="Reviewed.", changes={})

    assert queries(client, url) == few
