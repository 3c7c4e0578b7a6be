"""A supervisor's program pages: reports, staff, care-team assignment and the reminder
wording; each through the API's selectors and services, refused to other roles, with the
service's errors on their fields and a stale version answering 412."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from caseload.models import AuditAction, AuditEvent, Enrollment, Program, Staff
from caseload.permissions import can_view_patient
from console.forms import REPORT_PARAMETERS
from tests.factories import EnrollmentFactory, PatientFactory, StaffFactory, signed_plan

from .conftest import console_for
from .test_safety import INLINE_HANDLER, INLINE_SCRIPT, STYLE_ATTRIBUTE


def enrollment_of(patient) -> Enrollment:
    return Enrollment.objects.get(patient=patient)


def last_event(actor, **filters) -> AuditEvent:
    return AuditEvent.objects.filter(actor=actor, **filters).latest("occurred_at")


# Reports


def test_the_census_counts_the_programs_episodes_on_the_day_asked(
    supervisor, patient, foreign_patient
):
    on = timezone.localdate().isoformat()

    page = console_for(supervisor).get("/console/reports/", {"report": "census", "on": on})

    assert page.status_code == 200
    assert b'<th scope="row" colspan="2">Total</th><td class="num">1</td>' in page.content
    event = last_event(supervisor, resource_type="report")
    assert (event.action, event.resource_id, event.detail["on"]) == ("read", "census", on)


def test_a_reversed_window_is_refused_on_its_field(supervisor):
    query = {"report": "admissions-discharges", "from": "2026-06-01", "to": "2026-01-01"}

    page = console_for(supervisor).get("/console/reports/", query)

    assert page.status_code == 400
    assert b'Must not be after the end of the window. <span class="code">[window_reversed]' in (
        page.content
    )
    assert b'aria-describedby="id_from-errors"' in page.content
    assert not AuditEvent.objects.filter(actor=supervisor, resource_type="report").exists()


def test_a_date_out_of_range_is_refused_with_the_apis_rule(supervisor):
    query = {"report": "pharmacotherapy-continuity", "cohort_from": "1800-01-01"}

    page = console_for(supervisor).get("/console/reports/", query)

    assert page.status_code == 400 and b"[out_of_range]" in page.content


def test_admissions_and_continuity_show_their_tables(supervisor, patient):
    client = console_for(supervisor)
    admissions = client.get("/console/reports/", {"report": "admissions-discharges"})
    continuity = client.get("/console/reports/", {"report": "pharmacotherapy-continuity"})

    assert admissions.status_code == 200 and b">Treatment completed</th>" in admissions.content
    assert continuity.status_code == 200 and b"(no denominator)" in continuity.content


def test_plan_reviews_name_the_patients_shown_in_the_page_and_its_audit(
    supervisor, counselor, patient
):
    due = timezone.localdate() - timedelta(days=3)
    signed_plan(counselor=counselor, enrollment=enrollment_of(patient), review_due_on=due)

    page = console_for(supervisor).get("/console/reports/", {"report": "plan-reviews"})

    assert page.status_code == 200
    assert patient.mrn.encode() in page.content and b"Overdue" in page.content
    assert last_event(supervisor, resource_type="report").patient_id == patient.pk


def test_reports_are_refused_to_other_roles(counselor, prescriber, front_desk):
    for staff in (counselor, prescriber, front_desk):
        assert console_for(staff).get("/console/reports/").status_code == 403
        assert last_event(staff).outcome == "denied"
    assert console_for(counselor).get("/console/reports/?report=nothing").status_code == 404


# Staff


def test_the_staff_page_lists_the_programs_staff_with_role_and_account(
    supervisor, counselor, prescriber, other_program_staff
):
    gone = StaffFactory(username="gone", program=supervisor.program, role="counselor")
    Staff.objects.filter(pk=gone.pk).update(is_active=False)
    client = console_for(supervisor)

    page = client.get("/console/staff/")
    counselors = client.get("/console/staff/", {"role": "counselor", "is_active": "false"})

    assert page.status_code == 200
    assert b"prescriber" in page.content and b"Deactivated" in page.content
    assert b"other_program_staff" not in page.content
    assert b"gone" in counselors.content and b"<td>prescriber</td>" not in counselors.content


def test_the_staff_page_is_for_supervisors(counselor, front_desk):
    assert console_for(counselor).get("/console/staff/").status_code == 403
    assert console_for(front_desk).get("/console/staff/").status_code == 403


# Care teams


def test_the_care_team_list_names_every_patient_it_shows(supervisor, patient, other_patient):
    page = console_for(supervisor).get("/console/care-team/")

    assert page.status_code == 200
    assert patient.mrn.encode() in page.content and other_patient.mrn.encode() in page.content
    event = last_event(supervisor, resource_type="enrollment")
    assert event.action == AuditAction.LIST
    assert set(event.patient_set.patients) == {patient.pk, other_patient.pk}


def test_reassigning_the_counselor_moves_the_patients_access(
    supervisor, counselor, other_counselor, patient
):
    enrollment = enrollment_of(patient)
    client = console_for(supervisor)
    url = f"/console/care-team/{enrollment.pk}/"
    assert client.get(url).status_code == 200
    assert last_event(supervisor, action=AuditAction.READ).patient_id == patient.pk

    response = client.post(
        url,
        {"counselor": other_counselor.pk, "prescriber": "", "version": enrollment.version},
    )

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.counselor, enrollment.prescriber) == (other_counselor, None)
    assert can_view_patient(other_counselor, patient)
    assert not can_view_patient(counselor, patient)
    assert console_for(counselor).get(f"/console/patients/{patient.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.GRANT, patient_id=patient.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE, patient_id=patient.pk).exists()


def test_a_prescriber_of_the_wrong_role_is_refused_on_its_field(
    supervisor, counselor, other_counselor, prescriber, patient
):
    enrollment = enrollment_of(patient)
    body = {"counselor": counselor.pk, "prescriber": other_counselor.pk, "version": 1}

    page = console_for(supervisor).post(f"/console/care-team/{enrollment.pk}/", body)

    assert page.status_code == 400
    assert b'The prescriber must have the prescriber role. <span class="code">[wrong_role]' in (
        page.content
    )
    assert b'aria-describedby="id_prescriber-errors"' in page.content
    assert enrollment_of(patient).prescriber == prescriber


def test_a_stale_care_team_form_answers_412(supervisor, counselor, other_counselor, patient):
    enrollment = enrollment_of(patient)
    body = {"counselor": other_counselor.pk, "version": enrollment.version - 1 or 99}

    page = console_for(supervisor).post(f"/console/care-team/{enrollment.pk}/", body)

    assert page.status_code == 412 and b"[stale_etag]" in page.content
    assert enrollment_of(patient).counselor == counselor
    assert last_event(supervisor).outcome == "denied"


def test_another_programs_enrollment_is_not_found(supervisor, foreign_patient):
    url = f"/console/care-team/{enrollment_of(foreign_patient).pk}/"
    client = console_for(supervisor)

    assert client.get(url).status_code == 404
    assert client.post(url, {"counselor": supervisor.pk, "version": 1}).status_code == 404
    assert console_for(supervisor).get("/console/care-team/not-an-id/").status_code == 404


def test_clinicians_assign_no_care_team(counselor, other_counselor, patient):
    url = f"/console/care-team/{enrollment_of(patient).pk}/"
    response = console_for(counselor).post(url, {"counselor": other_counselor.pk, "version": 1})

    assert response.status_code == 403
    assert enrollment_of(patient).counselor == counselor


# Reminder wording


def test_the_reminder_wording_is_shown_as_a_reminder_reads_and_changed(supervisor, program):
    client = console_for(supervisor)
    page = client.get("/console/reminder-wording/")
    assert page.status_code == 200 and b"You have an appointment. " in page.content

    response = client.post(
        "/console/reminder-wording/",
        {"reminder_text": "  A visit is booked  for you.", "version": program.version},
    )

    assert response.status_code == 302
    program.refresh_from_db()
    assert program.reminder_text == "A visit is booked for you."
    assert last_event(supervisor, action=AuditAction.UPDATE).resource_type == "program"
    assert b"A visit is booked for you. " in client.get("/console/reminder-wording/").content


def test_a_wording_naming_the_program_is_refused_on_its_field(supervisor, program):
    client = console_for(supervisor)
    cases = {
        "Your riverside appointment:": "names_program",
        "   ": "required",
        "x" * 301: "max_length",
    }
    for text, code in cases.items():
        page = client.post(
            "/console/reminder-wording/", {"reminder_text": text, "version": program.version}
        )
        assert page.status_code == 400
        assert f"[{code}]".encode() in page.content
        assert b'aria-describedby="id_reminder_text-errors"' in page.content
    program.refresh_from_db()
    assert program.reminder_text == "You have an appointment."


def test_a_stale_wording_form_answers_412(supervisor, program):
    body = {"reminder_text": "See you soon.", "version": program.version + 5}

    page = console_for(supervisor).post("/console/reminder-wording/", body)

    assert page.status_code == 412 and b"[stale_etag]" in page.content
    assert Program.objects.get(pk=program.pk).reminder_text == "You have an appointment."


def test_a_supervisor_words_only_their_own_programs_reminders(
    supervisor, other_program_staff, program
):
    other = other_program_staff.program
    body = {"reminder_text": "See you soon.", "version": other.version}

    response = console_for(other_program_staff).post("/console/reminder-wording/", body)

    assert response.status_code == 302
    assert Program.objects.get(pk=other.pk).reminder_text == "See you soon."
    assert Program.objects.get(pk=program.pk).reminder_text == "You have an appointment."


def test_the_reminder_wording_is_for_supervisors(counselor, front_desk, program):
    body = {"reminder_text": "See you soon.", "version": program.version}
    assert console_for(counselor).get("/console/reminder-wording/").status_code == 403
    assert console_for(front_desk).post("/console/reminder-wording/", body).status_code == 403
    assert Program.objects.get(pk=program.pk).reminder_text == "You have an appointment."


def test_program_pages_are_in_a_supervisors_navigation_only(supervisor, counselor):
    nav = console_for(supervisor).get("/console/").content
    for href in (b"/console/reports/", b"/console/staff/", b"/console/care-team/"):
        assert href in nav
    assert b"/console/reminder-wording/" in nav
    assert b"/console/reports/" not in console_for(counselor).get("/console/").content


def test_a_patient_added_later_shows_in_the_care_team_list(supervisor, counselor):
    added = PatientFactory(actor=supervisor)
    EnrollmentFactory(actor=supervisor, patient=added, counselor=counselor)

    assert added.mrn.encode() in console_for(supervisor).get("/console/care-team/").content


def test_the_program_pages_are_no_store_with_no_inline_script_or_style(supervisor, patient):
    client = console_for(supervisor)
    urls = [f"/console/reports/?report={name}" for name in REPORT_PARAMETERS]
    urls += ["/console/staff/", "/console/care-team/", "/console/reminder-wording/"]
    urls.append(f"/console/care-team/{enrollment_of(patient).pk}/")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "unsafe-inline" not in response["Content-Security-Policy"], url
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE):
            assert not pattern.search(response.content), url
