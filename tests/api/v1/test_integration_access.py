"""What an integration client may read: only what its scopes name, in its program, for the
patients it may lawfully receive; never a write, never clinical content. Every payload writes
the disclosure ledger (one entry per patient, one INSERT per page) and carries the Part 2 notice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from caseload.models import Consent, Disclosure
from caseload.notice import PART2_NOTICE, PART2_NOTICE_HEADER
from caseload.services.integrations import QSOA_PURPOSE
from tests.api.v1.test_permission_matrix import (
    ACTION_BODIES,
    CORRECTION,
    METHODS,
    TABLE,
    URL_WITHOUT_ID,
    api_route_names,
    ctx,  # noqa: F401  (a fixture)
    scenario_for,
)
from tests.conftest import integration_for
from tests.factories import AppointmentFactory, PatientFactory

# The only (route, method) pairs an integration holding both scopes is let through.
READABLE = {("appointment-list", "GET"): 200, ("patient-list", "GET"): 200}
ROWS = sorted((route, method) for route in api_route_names() for method in METHODS)


@pytest.mark.parametrize(("route", "method"), ROWS, ids=[f"{r}:{m}" for r, m in ROWS])
def test_an_integration_reads_its_scoped_lists_and_nothing_else(ctx, route, method):  # noqa: F811
    integration = integration_for(ctx.supervisor.program)
    scenario = scenario_for(route, ctx)
    if route in URL_WITHOUT_ID or route.endswith("-list"):
        url = reverse(route)
    else:
        url = reverse(route, kwargs={"pk": scenario.target().pk})
    body = None
    if method == "POST":
        body = (
            scenario.create() if route.endswith("-list") else ACTION_BODIES.get(route, CORRECTION)
        )
        body = body(ctx) if callable(body) else body
    elif method in ("PATCH", "PUT") and scenario is not None:
        body = scenario.update()
    response = getattr(integration, method.lower())(url, body, format="json")
    if (route, method) in READABLE:
        assert response.status_code == READABLE[(route, method)]
    elif (route, method) in TABLE:  # a route and method staff can use: refused
        assert response.status_code == 403, (route, method, response.status_code)
    else:  # a method the route does not have
        assert response.status_code in (403, 405), (route, method, response.status_code)


@pytest.mark.parametrize(
    ("scopes", "appointments", "patients"),
    [
        (["appointments:read"], 200, 403),
        (["patients:read"], 403, 200),
        (["appointments:read", "patients:read"], 200, 200),
    ],
)
def test_each_scope_opens_its_own_list(program, patient, scopes, appointments, patients):
    integration = integration_for(program, scopes=scopes)
    assert integration.get("/api/v1/appointments/").status_code == appointments
    assert integration.get("/api/v1/patients/").status_code == patients


def test_patients_read_gives_demographics_and_contact_fields_only(integration_client, patient):
    results = integration_client.get("/api/v1/patients/").json()["results"]
    assert [p["id"] for p in results] == [str(patient.pk)]
    assert set(results[0]) == {
        "id",
        "mrn",
        "given_name",
        "family_name",
        "birth_date",
        "program",
        "phone",
        "email",
        "address_line",
        "city",
        "state",
        "postal_code",
        "reminder_channel",  # a contact preference, for reminder systems
        "version",
        "created_at",
        "updated_at",
    }


def test_appointments_carry_no_free_text_or_internals(
    integration_client, supervisor, counselor, patient
):
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    results = integration_client.get("/api/v1/appointments/").json()["results"]
    assert set(results[0]) == {
        "id",
        "patient",
        "staff",
        "kind",
        "status",
        "start",
        "end",
        "location",
        "version",
        "updated_at",
    }


def test_an_integration_never_sees_another_programs_patients(
    integration_client, patient, foreign_patient
):
    ids = [p["id"] for p in integration_client.get("/api/v1/patients/").json()["results"]]
    assert ids == [str(patient.pk)]


def test_every_answer_to_an_integration_carries_the_part2_notice(
    integration_client, as_user, counselor, patient
):
    assert integration_client.get("/api/v1/patients/")[PART2_NOTICE_HEADER] == PART2_NOTICE
    assert integration_client.get("/api/v1/notes/")[PART2_NOTICE_HEADER] == PART2_NOTICE
    assert PART2_NOTICE_HEADER not in as_user(counselor).get("/api/v1/patients/")


# Basis `consent` -------------------------------------------------------------------------------


def consent(patient, client, information, **extra) -> Consent:
    return Consent.objects.create(
        program=patient.program,
        patient=patient,
        signed_by="the patient (synthetic)",
        revocation_notice=True,
        recipient_name=client.name,
        recipient_client=client.pk,
        purpose="Appointment reminders",
        information=information,
        expires_at=extra.pop("expires_at", timezone.now() + timedelta(days=365)),
        signed_at=extra.pop("signed_at", timezone.now() - timedelta(days=1)),
        **extra,
    )


def test_under_consent_a_client_sees_only_patients_whose_consent_covers_the_category(
    program, supervisor, counselor, patient, other_patient
):
    integration = integration_for(program, basis="consent")
    third = PatientFactory(actor=supervisor)
    consent(patient, integration.record, ["appointments", "demographics"])
    consent(other_patient, integration.record, ["demographics"])  # not appointments
    consent(third, integration.record, ["appointments"], revoked_at=timezone.now())
    for who in (patient, other_patient, third):
        AppointmentFactory(actor=supervisor, patient=who, staff=counselor, overlap_allowed=True)
    appointments = integration.get("/api/v1/appointments/").json()["results"]
    assert {a["patient"] for a in appointments} == {str(patient.pk)}
    patients = integration.get("/api/v1/patients/").json()["results"]
    assert {p["id"] for p in patients} == {str(patient.pk), str(other_patient.pk)}


def test_a_consent_clients_feed_page_reads_its_coverage_once_and_pages_by_the_feed_index(
    program, supervisor, counselor, patient, other_patient
):
    """The coverage is read once (by the consent_recipient_active index) and the page query gets
    the patient ids as a list: then the planner walks the feed's ordered index and stops at the
    page's end, instead of reading every covered appointment and sorting it on every page
    (bench/feed_page.py prints the plan)."""
    integration = integration_for(program, basis="consent", scopes=["appointments:read"])
    consent(patient, integration.record, ["appointments"])
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    AppointmentFactory(actor=supervisor, patient=other_patient, staff=counselor)
    with CaptureQueriesContext(connection) as queries:
        page = integration.get("/api/v1/appointments/").json()
    assert {a["patient"] for a in page["results"]} == {str(patient.pk)}
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "caseload_appointment"')]
    assert reads and all("caseload_consent" not in sql for sql in reads)
    assert all(f"'{patient.pk}'" in sql or patient.pk.hex in sql for sql in reads)


def test_an_expired_consent_or_one_naming_another_client_discloses_nothing(
    program, supervisor, patient
):
    integration = integration_for(program, basis="consent")
    other = integration_for(program, name="other", basis="consent")
    consent(patient, integration.record, ["demographics"], expires_at=timezone.now())
    consent(patient, other.record, ["demographics"])
    assert integration.get("/api/v1/patients/").json()["results"] == []
    assert not Disclosure.objects.filter(client=integration.record.pk).exists()


def test_a_consent_disclosure_names_the_consent_relied_on(program, patient):
    integration = integration_for(program, basis="consent")
    given = consent(patient, integration.record, ["demographics"])
    integration.get("/api/v1/patients/")
    entry = Disclosure.objects.get(client=integration.record.pk)
    assert (entry.basis, entry.consent_id, entry.purpose) == ("consent", given.pk, given.purpose)


# The disclosure ledger ---------------------------------------------------------------------------


def test_each_payload_writes_one_disclosure_per_patient(
    integration_client, supervisor, counselor, patient, other_patient
):
    for who in (patient, patient, other_patient):
        AppointmentFactory(actor=supervisor, patient=who, staff=counselor, overlap_allowed=True)
    integration_client.get("/api/v1/appointments/")
    entries = Disclosure.objects.filter(client=integration_client.record.pk)
    assert sorted(str(e.patient_id) for e in entries) == sorted(
        [str(patient.pk), str(other_patient.pk)]
    )
    entry = entries.first()
    assert entry.information == ["appointments"]
    assert entry.basis == "qsoa"
    assert entry.recipient_name == integration_client.record.name
    integration_client.get("/api/v1/appointments/")  # another payload, another entry each
    assert Disclosure.objects.filter(client=integration_client.record.pk).count() == 4


@pytest.mark.postgres
def test_a_page_of_disclosures_is_one_insert(integration_client, supervisor, counselor):
    for _ in range(30):
        who = PatientFactory(actor=supervisor)
        AppointmentFactory(actor=supervisor, patient=who, staff=counselor, overlap_allowed=True)
    with CaptureQueriesContext(connection) as captured:
        response = integration_client.get("/api/v1/appointments/", {"page_size": 30})
    assert response.status_code == 200
    inserts = [q["sql"] for q in captured if 'INSERT INTO "caseload_disclosure"' in q["sql"]]
    assert len(inserts) == 1
    assert Disclosure.objects.count() == 30


LEDGER_COLUMNS = (
    "program_id",
    "patient_id",
    "recipient_name",
    "client",
    "information",
    "purpose",
    "basis",
    "consent_id",
    "actor_id",
    "request_id",
)


@pytest.mark.parametrize("basis", ["qsoa", "consent"])
def test_a_feed_page_ledgers_every_column_of_every_patient_exactly(
    program, supervisor, counselor, basis
):
    integration = integration_for(program, basis=basis)
    patients = [PatientFactory(actor=supervisor) for _ in range(3)]
    given = {}
    before_yesterday = timezone.now() - timedelta(days=2)
    for who in patients:  # two consents each: the newest is the one relied on
        if basis == "consent":
            consent(who, integration.record, ["appointments"], signed_at=before_yesterday)
            given[who.pk] = consent(who, integration.record, ["appointments", "demographics"])
        for _ in range(2):
            AppointmentFactory(actor=supervisor, patient=who, staff=counselor, overlap_allowed=True)
    before = timezone.now()
    response = integration.get("/api/v1/appointments/", {"page_size": 50})
    assert response.status_code == 200
    entries = list(Disclosure.objects.filter(client=integration.record.pk).values())
    assert len({e["id"] for e in entries}) == len(entries) == 3
    assert len({e["disclosed_at"] for e in entries}) == 1
    assert before <= entries[0]["disclosed_at"] <= timezone.now()
    purpose = "Appointment reminders" if basis == "consent" else QSOA_PURPOSE
    expected = sorted(
        (
            program.pk,
            who.pk,
            integration.record.name,
            integration.record.pk,
            ["appointments"],
            purpose,
            basis,
            given[who.pk].pk if basis == "consent" else None,
            None,
            response["X-Request-ID"],
        )
        for who in patients
    )
    got = sorted(tuple(e[name] for name in LEDGER_COLUMNS) for e in entries)
    assert got == expected


def test_staff_reads_write_no_disclosure(as_user, counselor, patient):
    as_user(counselor).get("/api/v1/patients/")
    assert not Disclosure.objects.exists()
