"""The console's safety promises: every page audited like the API, never cached, a strict
CSP with no inline script, CSRF on every form, and a patient the user may not open answering
404 exactly like an id that does not exist."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from caseload.models import AuditAction, AuditEvent, AuditOutcome
from tests.factories import AppointmentFactory, AssessmentFactory, CaseNoteFactory

from .conftest import console_for, device_for

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(rb"\son[a-z]+=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(rb"<[a-z][^>]*\sstyle=", re.IGNORECASE)


def newest(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).order_by("-occurred_at", "-id").first()


def pages(patient) -> list[str]:
    return [
        "/console/",
        "/console/caseload/",
        f"/console/patients/{patient.pk}/",
        f"/console/patients/{patient.pk}/assessments/cows/new/",
        f"/console/patients/{patient.pk}/notes/new/",
        f"/console/patients/{patient.pk}/appointments/new/",
        "/console/alerts/",
    ]


def test_every_page_is_no_store_with_a_strict_csp_and_no_inline_script(counselor, patient):
    AssessmentFactory(actor=counselor, patient=patient)
    client = console_for(counselor)
    for url in [*pages(patient), "/console/login/"]:
        response = (client if url != "/console/login/" else Client()).get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert not INLINE_SCRIPT.search(response.content), url
        assert not INLINE_HANDLER.search(response.content), url
        assert not STYLE_ATTRIBUTE.search(response.content), url


def test_the_patient_page_is_a_read_of_that_patient(counselor, patient):
    response = console_for(counselor).get(f"/console/patients/{patient.pk}/")

    event = newest(actor=counselor, resource_type="patient")
    assert response.status_code == 200
    assert (event.action, event.outcome, event.patient_id) == ("read", "allowed", patient.pk)
    assert str(event.resource_id) == str(patient.pk)
    assert event.request_id


def test_the_caseload_page_is_a_list_naming_every_patient_it_shows(
    counselor, patient, other_patient
):
    console_for(counselor).get("/console/caseload/")

    event = newest(actor=counselor, action=AuditAction.LIST, resource_type="patient")
    assert event.patient_id == patient.pk  # only the caseload's patient, not other_patient


def test_another_programs_patient_answers_404_like_a_random_id(counselor, patient, foreign_patient):
    client = console_for(counselor)
    foreign = client.get(f"/console/patients/{foreign_patient.pk}/")
    missing = client.get(f"/console/patients/{uuid.uuid4()}/")

    assert foreign.status_code == missing.status_code == 404
    assert _without_ids(foreign.content) == _without_ids(missing.content)
    event = newest(actor=counselor, outcome=AuditOutcome.DENIED)
    assert event.status_code == 404
    assert event.patient_id is None  # another program's patient is never named


def test_an_off_caseload_patient_answers_404_like_a_random_id_and_is_named(
    counselor, other_patient
):
    client = console_for(counselor)
    off = client.get(f"/console/patients/{other_patient.pk}/")
    missing = client.get(f"/console/patients/{uuid.uuid4()}/")

    assert off.status_code == missing.status_code == 404
    assert _without_ids(off.content) == _without_ids(missing.content)
    denied = AuditEvent.objects.filter(actor=counselor, outcome=AuditOutcome.DENIED)
    assert other_patient.pk in {event.patient_id for event in denied}


def _without_ids(content: bytes) -> bytes:
    content = re.sub(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", b"", content)
    return re.sub(
        rb'name="csrfmiddlewaretoken" value="[^"]+"|data-csrf="[^"]+"|"X-CSRFToken": "[^"]+"',
        b"",
        content,
    )


def test_front_desk_sees_contact_details_and_nothing_clinical(front_desk, counselor, patient):
    AssessmentFactory(actor=counselor, patient=patient)
    CaseNoteFactory(actor=counselor, patient=patient)
    client = console_for(front_desk)

    page = client.get(f"/console/patients/{patient.pk}/")

    assert page.status_code == 200
    for clinical in (b"Assessments", b"Case notes", b"Withdrawal chart", b"History"):
        assert clinical not in page.content
    assert client.get(f"/console/patients/{patient.pk}/assessments/cows/new/").status_code == 403
    assert client.get(f"/console/patients/{patient.pk}/notes/new/").status_code == 403
    assert client.get("/console/audit/").status_code == 403
    assert newest(actor=front_desk, outcome=AuditOutcome.DENIED).status_code == 403


def test_every_form_needs_the_csrf_token(counselor, patient):
    device = device_for(counselor)
    client = Client(enforce_csrf_checks=True)
    client.force_login(counselor)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()

    response = client.post(f"/console/patients/{patient.pk}/notes/new/", {"body": "Hello"})

    assert response.status_code == 403
    assert not patient.notes.exists()


def test_breaking_the_glass_opens_the_page_read_only_and_every_read_says_so(
    counselor, other_patient
):
    client = console_for(counselor)
    reason = "Covering a crisis call for a colleague tonight."
    # The form is the same for any id; it says nothing of whether the patient exists.
    assert client.get(f"/console/patients/{other_patient.pk}/break-glass/").status_code == 200

    response = client.post(f"/console/patients/{other_patient.pk}/break-glass/", {"reason": reason})
    assert response.status_code == 302
    page = client.get(f"/console/patients/{other_patient.pk}/")

    assert page.status_code == 200
    assert b"breaking the glass" in page.content
    read = newest(actor=counselor, action=AuditAction.READ, resource_type="patient")
    assert read.break_glass and read.patient_id == other_patient.pk
    assert newest(action=AuditAction.BREAK_GLASS).detail.get("reason", reason)
    assert client.get(f"/console/patients/{other_patient.pk}/notes/new/").status_code == 403


def test_breaking_the_glass_needs_a_real_reason_shown_on_its_field(counselor, other_patient):
    response = console_for(counselor).post(
        f"/console/patients/{other_patient.pk}/break-glass/", {"reason": "urgent"}
    )

    assert response.status_code == 400
    assert b"too_short" in response.content
    assert b'aria-invalid="true"' in response.content


def test_breaking_the_glass_for_another_programs_patient_answers_404(counselor, foreign_patient):
    reason = "Covering a crisis call for a colleague tonight."
    response = console_for(counselor).post(
        f"/console/patients/{foreign_patient.pk}/break-glass/", {"reason": reason}
    )

    assert response.status_code == 404


def test_an_appointment_move_on_another_programs_booking_answers_404(
    counselor, other_program_staff, foreign_patient
):
    foreign = AppointmentFactory(
        actor=other_program_staff, patient=foreign_patient, staff=other_program_staff
    )

    response = console_for(counselor).post(f"/console/appointments/{foreign.pk}/arrive/")

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "booked"


@pytest.mark.parametrize("path", ["/console/", "/console/caseload/", "/console/audit/"])
def test_integration_clients_and_strangers_have_no_console(path, integration_client):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_the_landing_page_leads_staff_to_the_console(anonymous):
    assert b'href="/console/"' in Client().get("/").content


def test_the_caseload_is_searchable_and_sortable(counselor, supervisor, patient):
    from tests.factories import EnrollmentFactory, PatientFactory

    second = PatientFactory(actor=supervisor, given_name="Quinn", family_name="Zedtest")
    EnrollmentFactory(actor=supervisor, patient=second, counselor=counselor)
    AssessmentFactory(actor=counselor, patient=second, items={**_cows_zero(), "gooseflesh": 5})
    client = console_for(counselor)

    found = client.get("/console/caseload/", {"q": "zedt"}, HTTP_HX_REQUEST="true")
    by_cows = client.get("/console/caseload/", {"sort": "-cows"}).content.decode()

    assert b"Zedtest" in found.content and b"Avery" not in found.content
    assert b"<html" not in found.content  # htmx gets the table fragment only
    assert by_cows.index("Zedtest") < by_cows.index("Synthetic, Avery")
    assert 'aria-sort="descending"' in by_cows


def _cows_zero() -> dict:
    from caseload.instruments import item_keys

    return dict.fromkeys(item_keys("cows"), 0)


def test_the_patient_page_offers_only_the_forms_the_policy_allows(prescriber, front_desk, patient):
    prescribers = console_for(prescriber).get(f"/console/patients/{patient.pk}/").content
    front = console_for(front_desk).get(f"/console/patients/{patient.pk}/").content

    assert b"Record COWS" in prescribers and b"Write a note" not in prescribers
    assert b"Record COWS" not in front and b"Book an appointment" in front
