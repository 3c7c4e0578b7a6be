"""A day in the console, in a real browser: headless Debian Chromium driven by Selenium.

Each test reads like a user's day; axe-core checks every page they meet for serious and
critical WCAG violations, and each main screen is saved to shots/ to look at.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from caseload.models import Assessment, CaseNote, Enrollment, TreatmentPlan
from caseload.services.break_glass import break_glass_open
from caseload.services.medications import medication_record
from tests.factories import PERSONA_PASSWORD, AssessmentFactory, signed_plan

from .browser import (
    Pages,
    axe_violations,
    chromium_paths,
    describe,
    heading,
    shoot,
    start_browser,
    wait_for,
    wait_for_text,
)
from .conftest import booked_today, current_code, device_for

REASON = "Covering a crisis call for a colleague tonight."
# COWS answers typed by keyboard: item -> how many times to press the right arrow from the
# first answer (0 means Space on the first answer). Totals 2+1+3+1+2+1+2+1+1+2+0 = 16.
COWS_KEYS = {
    "resting_pulse": 2,
    "sweating": 1,
    "restlessness": 2,
    "pupil_size": 1,
    "bone_joint_aches": 2,
    "runny_nose_tearing": 1,
    "gi_upset": 2,
    "tremor": 1,
    "yawning": 1,
    "anxiety_irritability": 2,
    "gooseflesh": 0,
}


@pytest.fixture(scope="module")
def driver():
    if chromium_paths() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromedriver are missing; .ci/run installs them.")
        pytest.skip("needs chromium and chromium-driver (apt-get install chromium chromium-driver)")
    chrome = start_browser()
    yield chrome
    chrome.quit()


@pytest.fixture
def pages(driver, live_server, transactional_db):
    driver.delete_all_cookies()
    return Pages(driver, live_server.url)


def enrollment_of(patient) -> Enrollment:
    return Enrollment.objects.get(patient=patient)


def sign_in(pages: Pages, staff) -> str:
    device = device_for(staff)
    return pages.sign_in(staff.username, PERSONA_PASSWORD, lambda: current_code(device))


def accessible(pages: Pages, name: str) -> None:
    shoot(pages.driver, name)
    violations = axe_violations(pages.driver)
    assert not violations, f"{name}: {describe(violations)}"


def test_sign_in_asks_for_the_second_factor_and_enrols_on_first_sign_in(pages, counselor):
    pages.open("/console/login/")
    accessible(pages, "01-sign-in")
    pages.driver.find_element(By.ID, "id_username").send_keys(counselor.username)
    pages.driver.find_element(By.ID, "id_password").send_keys(PERSONA_PASSWORD, Keys.ENTER)

    assert heading(pages.driver) == "Set up your second factor"
    accessible(pages, "02-enrol")
    secret = pages.driver.find_element(By.ID, "totp-secret").text
    device = counselor.totpdevice_set.get()
    assert secret
    pages.driver.find_element(By.ID, "id_token").send_keys(current_code(device), Keys.ENTER)

    assert heading(pages.driver) == "My appointments"


def test_a_wrong_code_is_said_next_to_the_field(pages, counselor):
    device_for(counselor)
    pages.open("/console/login/")
    pages.driver.find_element(By.ID, "id_username").send_keys(counselor.username)
    pages.driver.find_element(By.ID, "id_password").send_keys(PERSONA_PASSWORD, Keys.ENTER)
    assert heading(pages.driver) == "Enter your code"
    accessible(pages, "03-verify")

    pages.driver.find_element(By.ID, "id_token").send_keys("000000", Keys.ENTER)

    error = wait_for(pages.driver, (By.ID, "id_token-errors"))
    assert "invalid_token" in error.text
    field = pages.driver.find_element(By.ID, "id_token")
    assert field.get_attribute("aria-describedby") == "id_token-errors"


def test_a_counselors_day(pages, counselor, supervisor, patient):
    booked_today(actor=supervisor, patient=patient, staff=counselor)
    assert sign_in(pages, counselor) == "My appointments"
    accessible(pages, "10-today")

    # The patient arrives: the row changes in place (htmx), the page stays.
    pages.driver.find_element(By.XPATH, "//button[starts-with(., 'Mark arrived')]").click()
    wait_for_text(pages.driver, (By.CSS_SELECTOR, "td .status"), "Arrived")
    assert wait_for(pages.driver, (By.XPATH, "//button[starts-with(., 'Mark seen')]"))

    pages.open("/console/caseload/")
    accessible(pages, "11-caseload")
    pages.driver.find_element(By.LINK_TEXT, f"{patient.family_name}, {patient.given_name}").click()
    assert patient.mrn in heading(pages.driver)
    accessible(pages, "12-patient")

    record_cows_by_keyboard(pages)
    message = wait_for(pages.driver, (By.CSS_SELECTOR, ".message.success"))
    assert "COWS total 16 (moderate)" in message.text
    assert Assessment.objects.get(patient=patient).total_score == 16

    pages.driver.find_element(By.LINK_TEXT, "Write a note").click()
    assert heading(pages.driver) == "Write a case note"
    accessible(pages, "14-note")
    pages.tab_to(lambda e: e.get_attribute("id") == "id_body")
    pages.press("Talked through the week; coping plan agreed.")
    pages.tab_to(lambda e: e.tag_name == "button" and "Save note" in e.text)
    pages.press(Keys.ENTER)
    wait_for(pages.driver, (By.CSS_SELECTOR, ".message.success"))
    assert CaseNote.objects.get(patient=patient).body.startswith("Talked through the week")


def record_cows_by_keyboard(pages: Pages) -> None:
    """From the patient page to a saved COWS with the keyboard alone."""
    pages.tab_to(lambda e: e.text == "Record COWS")
    pages.press(Keys.ENTER)
    assert heading(pages.driver).startswith("COWS")
    for item, presses in COWS_KEYS.items():
        pages.tab_to(lambda e, item=item: e.get_attribute("name") == item)
        pages.press(*([Keys.ARROW_RIGHT] * presses) if presses else [Keys.SPACE])
    total = pages.driver.find_element(By.ID, "running-total").text
    assert total == "Running total: 16 (11 of 11 items answered). Band: moderate"
    accessible(pages, "13-cows")
    pages.tab_to(lambda e: e.tag_name == "button" and e.text.startswith("Save COWS"))
    pages.press(Keys.ENTER)


def test_a_prescriber_reads_the_whole_history(pages, counselor, prescriber, patient):
    AssessmentFactory(actor=counselor, patient=patient)
    medication_record(
        actor=prescriber,
        patient=patient,
        fields={
            "medication": "buprenorphine",
            "dose": "8",
            "dose_unit": "mg",
            "frequency": "daily",
            "route": "sublingual",
            "start_date": timezone.localdate(),
        },
    )
    sign_in(pages, prescriber)
    pages.open("/console/caseload/")
    pages.driver.find_element(By.LINK_TEXT, f"{patient.family_name}, {patient.given_name}").click()

    history = wait_for(pages.driver, (By.CSS_SELECTOR, "#history table"))
    text = history.text
    assert "Medication" in text and "Buprenorphine" in text and "COWS total 0" in text
    scores = pages.driver.find_element(By.CSS_SELECTOR, "#chart table").text
    assert "COWS" in scores  # the chart's text alternative
    accessible(pages, "20-prescriber-patient")


def test_a_supervisor_reviews_a_break_the_glass_opening(
    pages, supervisor, counselor, other_patient
):
    break_glass_open(actor=counselor, patient=other_patient, reason=REASON)
    sign_in(pages, supervisor)
    pages.open("/console/break-glass/")
    accessible(pages, "30-break-glass-queue")
    assert REASON in pages.driver.find_element(By.CSS_SELECTOR, "article.card").text

    note = pages.tab_to(lambda e: (e.get_attribute("id") or "").startswith("note-"))
    note.send_keys("Checked with the on-call lead: justified.")
    pages.tab_to(lambda e: e.tag_name == "button" and e.text == "Record review")
    pages.press(Keys.ENTER)

    assert "Review recorded." in wait_for(pages.driver, (By.CSS_SELECTOR, ".message")).text
    pages.open("/console/audit/")
    accessible(pages, "31-audit-log")
    pages.open("/console/alerts/")
    accessible(pages, "32-alerts")
    pages.open("/console/board/")
    accessible(pages, "33-board")


def test_front_desk_sees_the_board_and_contact_details(
    pages, front_desk, supervisor, counselor, patient
):
    booked_today(actor=supervisor, patient=patient, staff=counselor)
    assert sign_in(pages, front_desk) == "Appointment board"
    accessible(pages, "40-front-desk-board")
    pages.open("/console/caseload/")
    accessible(pages, "41-front-desk-contacts")
    pages.driver.find_element(By.LINK_TEXT, f"{patient.family_name}, {patient.given_name}").click()
    assert "Assessments" not in pages.driver.find_element(By.TAG_NAME, "main").text
    pages.open(f"/console/patients/{patient.pk}/appointments/new/")
    accessible(pages, "42-booking")


def test_a_supervisor_runs_the_programs_reports_staff_and_reminders(
    pages, supervisor, counselor, other_counselor, patient
):
    due = timezone.localdate() - timedelta(days=2)
    signed_plan(counselor=counselor, enrollment=enrollment_of(patient), review_due_on=due)
    sign_in(pages, supervisor)
    pages.driver.find_element(By.LINK_TEXT, "Reports").click()
    assert heading(pages.driver) == "Program reports"
    accessible(pages, "34-reports")
    pages.driver.find_element(By.LINK_TEXT, "Admissions and discharges").click()
    wait_for_text(pages.driver, (By.TAG_NAME, "caption"), "per month")
    accessible(pages, "34b-reports-admissions")
    pages.open("/console/reports/?report=plan-reviews")
    assert patient.mrn in pages.driver.find_element(By.TAG_NAME, "table").text
    accessible(pages, "34c-reports-plan-reviews")

    pages.driver.find_element(By.LINK_TEXT, "Staff").click()
    assert heading(pages.driver) == "Staff of the program"
    accessible(pages, "35-staff")

    pages.driver.find_element(By.LINK_TEXT, "Care teams").click()
    accessible(pages, "36a-care-teams")
    pages.driver.find_element(By.PARTIAL_LINK_TEXT, "Change").click()
    assert patient.mrn in heading(pages.driver)
    Select(pages.driver.find_element(By.ID, "id_prescriber")).select_by_visible_text(
        f"{other_counselor.username} (Counselor)"
    )
    pages.driver.find_element(By.ID, "id_prescriber").submit()
    wait_for(pages.driver, (By.ID, "id_prescriber-errors"))
    accessible(pages, "36-care-team")  # the service's refusal, on its field

    pages.open("/console/reminder-wording/")
    wording = pages.driver.find_element(By.ID, "id_reminder_text")
    wording.clear()
    wording.send_keys("Your appointment:")
    wording.submit()
    assert "Reminder wording saved." in wait_for(pages.driver, (By.CSS_SELECTOR, ".message")).text
    assert "Your appointment: " in pages.driver.find_element(By.CSS_SELECTOR, "p.example").text
    accessible(pages, "37-reminder-wording")


def test_a_counselor_drafts_a_treatment_plan_and_records_a_placement(pages, counselor, patient):
    sign_in(pages, counselor)
    pages.open(f"/console/patients/{patient.pk}/")
    pages.driver.find_element(By.LINK_TEXT, "Start a treatment plan").click()
    assert heading(pages.driver) == "New treatment plan"
    type_into = fill(pages.driver)
    type_into("problems.0.description", "Daily opioid use; withdrawal when stopping.")
    Select(pages.driver.find_element(By.ID, "id_problems.0.asam_dimension")).select_by_value("1")
    type_into("goals.0.description", "I want to stop using and keep my job.")
    type_into("goals.0.objectives.0.description", "Attend every dosing visit for 30 days.")
    pages.driver.execute_script(
        "arguments[0].value = arguments[1]",
        pages.driver.find_element(By.ID, "id_goals.0.objectives.0.target_date"),
        (timezone.localdate() + timedelta(days=30)).isoformat(),
    )
    type_into("interventions.0.kind", "Individual counseling")
    Select(pages.driver.find_element(By.ID, "id_interventions.0.responsible")).select_by_value(
        str(counselor.pk)
    )
    pages.driver.find_element(By.XPATH, "//button[. = 'Save the draft']").click()

    # How often was left out: said on its field, nothing saved.
    error = wait_for(pages.driver, (By.ID, "id_interventions.0.frequency-errors"))
    assert "[required]" in error.text and not TreatmentPlan.objects.exists()
    accessible(pages, "15-treatment-plan")
    fill(pages.driver)("interventions.0.frequency", "weekly")
    pages.driver.find_element(By.XPATH, "//button[. = 'Save the draft']").click()
    wait_for(pages.driver, (By.CSS_SELECTOR, ".message.success"))
    assert TreatmentPlan.objects.get(patient=patient).interventions[0]["frequency"] == "weekly"
    sign_and_open_the_review(pages)
    assert TreatmentPlan.objects.get(patient=patient).status == "signed"
    pages.open(f"/console/patients/{patient.pk}/")

    pages.driver.find_element(By.LINK_TEXT, "Record a placement").click()
    assert heading(pages.driver) == "Record a level-of-care placement"
    for dimension, rating in enumerate((2, 0, 1, 2, 3, 2), start=1):
        pages.driver.find_element(
            By.CSS_SELECTOR, f"label[for='id_dimension_{dimension}_{rating}']"
        ).click()
    Select(pages.driver.find_element(By.ID, "id_recommended_level")).select_by_value("2.1")
    Select(pages.driver.find_element(By.ID, "id_actual_level")).select_by_value("1")
    fill(pages.driver)("reason_for_difference", "Patient preference: works full days.")
    accessible(pages, "16-placement")
    pages.driver.find_element(By.XPATH, "//button[. = 'Record the placement']").click()

    wait_for(pages.driver, (By.CSS_SELECTOR, ".message.success"))
    section = pages.driver.find_element(By.ID, "level-of-care").text
    assert "1 (recommended 2.1)" in section and "Patient preference" in section
    assert (
        "I want to stop using and keep my job."
        in pages.driver.find_element(By.ID, "treatment-plan").text
    )
    accessible(pages, "17-patient-treatment")


def sign_and_open_the_review(pages: Pages) -> None:
    """The counselor signs the draft with the patient's signature time, then opens a review."""
    pages.driver.find_element(By.LINK_TEXT, "Sign the plan").click()
    assert heading(pages.driver) == "Sign the treatment plan"
    signed_at = timezone.localtime() - timedelta(hours=1)
    pages.driver.execute_script(
        "arguments[0].value = arguments[1]",
        pages.driver.find_element(By.ID, "id_signed_by_patient_at"),
        signed_at.strftime("%Y-%m-%dT%H:%M"),
    )
    pages.driver.find_element(By.XPATH, "//button[. = 'Sign the plan']").click()
    wait_for(pages.driver, (By.CSS_SELECTOR, ".message.success"))
    pages.driver.find_element(By.LINK_TEXT, "Record a review").click()
    assert heading(pages.driver) == "Review the treatment plan"
    accessible(pages, "18-plan-review")


def fill(driver):
    def type_into(name: str, text: str) -> None:
        field = driver.find_element(By.ID, f"id_{name}")
        field.clear()
        field.send_keys(text)

    return type_into
