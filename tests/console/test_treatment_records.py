"""Treatment plans and level-of-care placements from the console: the same services as the
API (docs/treatment-records.md), errors on their fields with the stable codes, a stale form
answering 412, nothing half-saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.models import AuditAction, AuditEvent, Placement, TreatmentPlan
from caseload.services.break_glass import break_glass_open
from caseload.services.placements import placement_record
from caseload.services.treatment_plans import treatment_plan_create, treatment_plan_sign

from .conftest import console_for, placement_fields, plan_fields


def day(n: int = 0) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def moment(**delta) -> str:
    return (timezone.localtime() + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


def plan_form(responsible, **cells) -> dict:
    """A filled plan form: the first problem row left empty, so the second is the first kept."""
    return {
        "starts_on": day(),
        "problems.1.description": "Daily opioid use; withdrawal when stopping.",
        "problems.1.asam_dimension": "1",
        "goals.0.description": "I want to stop using and keep my job.",
        "goals.0.objectives.0.description": "Attend every dosing visit for 30 days.",
        "goals.0.objectives.0.target_date": day(30),
        "goals.0.objectives.0.status": "open",
        "interventions.0.kind": "Individual counseling",
        "interventions.0.frequency": "weekly",
        "interventions.0.responsible": str(responsible.pk),
        **cells,
    }


def placement_form(**cells) -> dict:
    ratings = {f"dimension_{n}": r for n, r in enumerate((2, 0, 1, 2, 3, 2), start=1)}
    return {
        "assessed_at": moment(hours=-1),
        **ratings,
        "recommended_level": "2.1",
        "actual_level": "1",
        "reason_for_difference": "Patient preference: works full days.",
        **cells,
    }


@pytest.fixture
def enrollment(patient):
    return patient.enrollments.get()


@pytest.fixture
def draft(counselor, enrollment):
    return treatment_plan_create(
        actor=counselor, enrollment=enrollment, fields=plan_fields(counselor)
    )


@pytest.fixture
def signed(counselor, draft):
    return treatment_plan_sign(plan=draft, actor=counselor)


def url(patient, *parts) -> str:
    return "/".join([f"/console/patients/{patient.pk}", *map(str, parts), ""])


def errors_on(response, field: str) -> bool:
    return f'id="id_{field}-errors"'.encode() in response.content


def test_a_counselor_drafts_a_plan_and_empty_rows_are_left_out(counselor, patient, enrollment):
    client = console_for(counselor)
    assert client.get(url(patient, "treatment-plans", "new")).status_code == 200

    response = client.post(url(patient, "treatment-plans", "new"), plan_form(counselor))

    assert response.status_code == 302
    assert response["Location"] == f"/console/patients/{patient.pk}/#treatment-plan"
    plan = TreatmentPlan.objects.get(enrollment=enrollment)
    assert (plan.status, plan.created_by) == ("draft", counselor)
    assert plan.problems == [
        {"description": "Daily opioid use; withdrawal when stopping.", "asam_dimension": 1}
    ]
    assert plan.goals[0]["objectives"][0] == {
        "description": "Attend every dosing visit for 30 days.",
        "target_date": day(30),
        "status": "open",
    }
    assert plan.interventions[0]["responsible"] == str(counselor.pk)
    assert AuditEvent.objects.filter(resource_type="treatmentplan", action="create").count() == 1


def test_a_started_row_needs_its_cells_and_nothing_is_saved(counselor, patient):
    body = plan_form(
        counselor,
        **{"interventions.0.frequency": "", "goals.1.objectives.0.description": "Find work."},
    )

    response = console_for(counselor).post(url(patient, "treatment-plans", "new"), body)

    assert response.status_code == 400
    assert errors_on(response, "interventions.0.frequency")
    assert errors_on(response, "goals.1.objectives.0.target_date")
    assert errors_on(response, "goals.1.description")
    assert b"[required]" in response.content
    assert not TreatmentPlan.objects.exists()


def test_the_services_errors_land_on_the_row_they_came_from(
    counselor, patient, other_program_staff
):
    """The service names `goals.0...` and `interventions.0...` of what it was sent; the form's
    rows were 1 (row 0 left empty), and that is where the errors are shown."""
    body = plan_form(
        counselor,
        **{
            "goals.1.description": "Keep my flat.",
            "goals.1.objectives.1.description": "Pay rent on time.",
            "goals.1.objectives.1.target_date": day(-3),
            "interventions.2.kind": "Housing support",
            "interventions.2.frequency": "monthly",
            "interventions.2.responsible": str(other_program_staff.pk),
        },
    )

    response = console_for(counselor).post(url(patient, "treatment-plans", "new"), body)

    assert response.status_code == 400
    assert errors_on(response, "goals.1.objectives.1.target_date")
    assert b"[before_plan_start]" in response.content
    assert errors_on(response, "interventions.2.responsible")
    assert b"[does_not_exist]" in response.content
    assert not errors_on(response, "goals.0.objectives.0.target_date")
    assert not TreatmentPlan.objects.exists()


def test_a_second_current_plan_is_refused_with_the_services_code(counselor, patient, draft):
    response = console_for(counselor).post(
        url(patient, "treatment-plans", "new"), plan_form(counselor)
    )

    assert response.status_code == 409 and b"[current_plan_exists]" in response.content
    assert TreatmentPlan.objects.count() == 1


def test_a_draft_is_edited_with_its_version_and_a_stale_one_answers_412(
    counselor, supervisor, patient, draft
):
    edit = url(patient, "treatment-plans", draft.pk)
    form = console_for(counselor).get(edit)
    assert form.status_code == 200
    assert b"Attend every dosing visit for 30 days." in form.content
    body = {
        "starts_on": draft.starts_on.isoformat(),
        "problems.0.description": "Daily fentanyl use.",
        "goals.0.description": draft.goals[0]["description"],
        "goals.0.objectives.0.description": "Attend every dosing visit for 60 days.",
        "goals.0.objectives.0.target_date": day(60),
        "interventions.0.kind": "Group counseling",
        "interventions.0.frequency": "twice weekly",
        "interventions.0.responsible": str(supervisor.pk),
    }

    stale = console_for(counselor).post(edit, {**body, "version": draft.version - 1})
    assert stale.status_code == 412 and b"[stale_etag]" in stale.content
    draft.refresh_from_db()
    assert draft.problems[0]["description"] == "Daily opioid use; withdrawal when stopping."

    saved = console_for(counselor).post(edit, {**body, "version": draft.version})
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.problems == [{"description": "Daily fentanyl use."}]
    assert draft.interventions[0]["kind"] == "Group counseling"
    assert draft.goals[0]["objectives"][0]["target_date"] == day(60)


def test_the_counselor_signs_the_draft_and_only_they_may(counselor, supervisor, patient, draft):
    sign = url(patient, "treatment-plans", draft.pk, "sign")

    refused = console_for(supervisor).post(sign, {"version": draft.version})
    assert refused.status_code == 409 and b"[not_on_care_team]" in refused.content

    response = console_for(counselor).post(sign, {"version": draft.version})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "signed" and draft.signed_by == counselor
    assert draft.review_due_on > timezone.localdate()


def test_signing_an_incomplete_plan_names_what_is_missing(counselor, patient, enrollment):
    plan = treatment_plan_create(
        actor=counselor,
        enrollment=enrollment,
        fields=plan_fields(counselor, interventions=[], signed_by_patient_at=None),
    )

    response = console_for(counselor).post(
        url(patient, "treatment-plans", plan.pk, "sign"), {"version": plan.version}
    )

    assert response.status_code == 409
    assert b"[plan_incomplete]" in response.content
    assert b"[patient_signature_missing]" in response.content
    assert errors_on(response, "signed_by_patient_at")
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_a_review_records_the_note_the_changes_and_the_next_date(counselor, patient, signed):
    review = url(patient, "treatment-plans", signed.pk, "review")
    page = console_for(counselor).get(review)
    assert page.status_code == 200
    body = {
        "version": signed.version,
        "note": "Reviewed with the patient; attendance objective met.",
        "problems.0.description": signed.problems[0]["description"],
        "goals.0.description": signed.goals[0]["description"],
        "goals.0.objectives.0.description": signed.goals[0]["objectives"][0]["description"],
        "goals.0.objectives.0.target_date": signed.goals[0]["objectives"][0]["target_date"],
        "goals.0.objectives.0.status": "met",
        "interventions.0.kind": "Individual counseling",
        "interventions.0.frequency": "weekly",
        "interventions.0.responsible": str(counselor.pk),
    }

    response = console_for(counselor).post(review, body)

    assert response.status_code == 302
    signed.refresh_from_db()
    assert signed.review_note == "Reviewed with the patient; attendance objective met."
    assert signed.reviewed_by == counselor
    assert signed.goals[0]["objectives"][0]["status"] == "met"
    page = console_for(counselor).get(url(patient)).content.decode()
    assert "Reviews done</dt><dd>1;" in page and "attendance objective met" in page


def test_a_review_needs_a_note_and_a_current_version(counselor, patient, signed):
    review = url(patient, "treatment-plans", signed.pk, "review")
    client = console_for(counselor)

    missing = client.post(review, {"version": signed.version, "note": ""})
    stale = client.post(review, {"version": signed.version + 3, "note": "Reviewed."})

    assert missing.status_code == 400 and errors_on(missing, "note")
    assert stale.status_code == 412 and b"[stale_etag]" in stale.content
    signed.refresh_from_db()
    assert signed.reviewed_at is None


def test_a_draft_is_not_reviewed(counselor, patient, draft):
    response = console_for(counselor).post(
        url(patient, "treatment-plans", draft.pk, "review"),
        {"version": draft.version, "note": "Too early."},
    )

    assert response.status_code == 409 and b"[illegal_transition]" in response.content


def test_a_placement_is_recorded_and_the_level_follows_it(counselor, patient, enrollment):
    client = console_for(counselor)
    assert client.get(url(patient, "placements", "new")).status_code == 200

    response = client.post(url(patient, "placements", "new"), placement_form())

    assert response.status_code == 302
    placement = Placement.objects.get(patient=patient)
    assert (placement.dimension_5, placement.actual_level) == (3, "1")
    enrollment.refresh_from_db()
    assert (enrollment.asam_level, enrollment.level_of_care) == ("1", "outpatient")
    page = client.get(url(patient)).content.decode()
    assert "Level given</dt><dd><strong>1</strong> (recommended 2.1)" in page
    assert "Patient preference: works full days." in page


def test_a_placement_names_each_missing_rating_and_saves_nothing(counselor, patient):
    body = placement_form(dimension_6="9")
    del body["dimension_4"]

    response = console_for(counselor).post(url(patient, "placements", "new"), body)

    assert response.status_code == 400
    assert errors_on(response, "dimension_4") and b"[required]" in response.content
    assert errors_on(response, "dimension_6") and b"[invalid_choice]" in response.content
    assert not Placement.objects.exists()


def test_a_level_other_than_recommended_needs_the_reason_from_the_service(counselor, patient):
    response = console_for(counselor).post(
        url(patient, "placements", "new"), placement_form(reason_for_difference=" ")
    )

    assert response.status_code == 400
    assert errors_on(response, "reason_for_difference") and b"[required]" in response.content
    assert not Placement.objects.exists()


def test_a_placement_entered_in_error_puts_the_earlier_level_back(counselor, patient, enrollment):
    placement_record(
        actor=counselor,
        enrollment=enrollment,
        fields=placement_fields(assessed_at=timezone.now() - timedelta(days=3), actual_level="2.1"),
    )
    latest = placement_record(actor=counselor, enrollment=enrollment, fields=placement_fields())
    correct = url(patient, "placements", latest.pk, "entered-in-error")
    client = console_for(counselor)

    stale = client.post(correct, {"version": latest.version + 1, "reason": "Wrong patient."})
    assert stale.status_code == 412 and b"[stale_etag]" in stale.content
    no_reason = client.post(correct, {"version": latest.version, "reason": ""})
    assert no_reason.status_code == 400 and errors_on(no_reason, "reason")
    done = client.post(correct, {"version": latest.version, "reason": "Wrong patient."})

    assert done.status_code == 302
    latest.refresh_from_db()
    enrollment.refresh_from_db()
    assert latest.status == "entered_in_error" and enrollment.asam_level == "2.1"
    page = client.get(url(patient)).content.decode()
    assert "Level given</dt><dd><strong>2.1</strong>" in page
    assert "Entered in error (Wrong patient.)" in page
    assert "Intensive outpatient (ASAM 2.1)" in page
    again = client.post(correct, {"version": latest.version, "reason": "Twice."})
    assert again.status_code == 409 and b"[entered_in_error]" in again.content


def test_another_programs_patient_and_records_answer_404(
    counselor, patient, foreign_patient, other_program_staff
):
    foreign_enrollment = foreign_patient.enrollments.get()
    foreign_counselor = foreign_enrollment.counselor
    plan = treatment_plan_create(
        actor=foreign_counselor,
        enrollment=foreign_enrollment,
        fields=plan_fields(foreign_counselor),
    )
    placement = placement_record(
        actor=other_program_staff, enrollment=foreign_enrollment, fields=placement_fields()
    )
    client = console_for(counselor)

    for path in (
        url(foreign_patient, "treatment-plans", "new"),
        url(foreign_patient, "placements", "new"),
        url(foreign_patient, "treatment-plans", plan.pk),
        url(patient, "treatment-plans", plan.pk),
        url(patient, "treatment-plans", plan.pk, "review"),
        url(patient, "placements", placement.pk, "entered-in-error"),
    ):
        assert client.get(path).status_code == 404, path
        assert client.post(path, {"version": 1, "reason": "x", "note": "x"}).status_code == 404
    assert AuditEvent.objects.filter(actor=counselor, outcome="denied").exists()


def test_break_the_glass_access_reads_the_plan_but_every_form_answers_403(
    counselor, other_counselor, other_patient
):
    enrollment = other_patient.enrollments.get()
    plan = treatment_plan_create(
        actor=other_counselor, enrollment=enrollment, fields=plan_fields(other_counselor)
    )
    placement = placement_record(
        actor=other_counselor, enrollment=enrollment, fields=placement_fields()
    )
    break_glass_open(
        actor=counselor, patient=other_patient, reason="Covering a crisis call tonight, urgent."
    )
    client = console_for(counselor)

    page = client.get(url(other_patient)).content.decode()
    assert "Daily opioid use; withdrawal when stopping." in page
    assert "Start a treatment plan" not in page and "Edit the draft" not in page
    assert "Record a placement" not in page and "Mark entered in error" not in page
    for path in (
        url(other_patient, "treatment-plans", "new"),
        url(other_patient, "treatment-plans", plan.pk),
        url(other_patient, "treatment-plans", plan.pk, "sign"),
        url(other_patient, "placements", "new"),
        url(other_patient, "placements", placement.pk, "entered-in-error"),
    ):
        assert client.get(path).status_code == 403, path
        assert client.post(path, placement_form(version=1)).status_code == 403, path
    assert TreatmentPlan.objects.get().status == "draft"
    assert Placement.objects.get().status == "final"
    assert AuditEvent.objects.filter(
        actor=counselor, outcome="denied", action=AuditAction.CREATE
    ).exists()


def test_the_patient_page_shows_the_plan_and_placements(counselor, patient, signed, enrollment):
    placement_record(actor=counselor, enrollment=enrollment, fields=placement_fields())

    page = console_for(counselor).get(url(patient)).content.decode()

    assert 'id="treatment-plan"' in page and 'id="level-of-care"' in page
    assert "I want to stop using and keep my job." in page
    assert "Attend every dosing visit for 30 days." in page
    assert "Individual counseling" in page
    signed.refresh_from_db()  # the change of level made the review due today
    assert signed.review_due_on == timezone.localdate()
    assert f"Next review due</dt><dd>{timezone.localdate():%-d %b %Y}</dd>" in page
    assert "Record a review" in page
    assert "Treatment plan</td>" in page and "Placement</td>" in page  # in the history too


def test_the_caseload_shows_each_patients_next_plan_review_and_sorts_by_it(
    supervisor, counselor, patient, enrollment
):
    """The caseload's "Plan review due" column: the signed plan's next review, marked overdue
    once past, sortable (patients without a signed plan last)."""
    from tests.factories import EnrollmentFactory, PatientFactory, signed_plan

    signed_plan(
        counselor=counselor,
        enrollment=enrollment,
        review_due_on=timezone.localdate() - timedelta(days=3),
    )
    later = PatientFactory(actor=supervisor, family_name="Aaronson")
    signed_plan(
        counselor=counselor,
        enrollment=EnrollmentFactory(actor=supervisor, patient=later, counselor=counselor),
        review_due_on=timezone.localdate() + timedelta(days=20),
    )
    without = PatientFactory(actor=supervisor, family_name="Abbott")
    EnrollmentFactory(actor=supervisor, patient=without, counselor=counselor)
    client = console_for(counselor)

    page = client.get("/console/caseload/?sort=review").content.decode()
    assert "Plan review due" in page
    order = [page.index(p.mrn) for p in (patient, later, without)]
    assert order == sorted(order)
    row = page[page.index(patient.mrn) : page.index(later.mrn)]
    assert "(overdue)" in row
    assert "(overdue)" not in page[page.index(later.mrn) :]
