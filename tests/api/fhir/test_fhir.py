"""FHIR R4: CapabilityStatement, Appointment and Patient read and search, OperationOutcome
errors, the 42CFRPart2 label on everything. Each answer is validated with fhir.resources."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from caseload.models import Appointment, Disclosure
from tests.conftest import integration_for
from tests.factories import AppointmentFactory, PatientFactory

PART2 = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}


def fhir(response, status: int = 200) -> dict:
    """The body, after checking the media type and validating it as an R4B resource."""
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith("application/fhir+json")
    body = json.loads(response.content)
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    return body


def labelled(meta: dict) -> bool:
    return any(PART2.items() <= label.items() for label in meta.get("security", []))


def path_of(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


@pytest.fixture
def schedule(supervisor, counselor, prescriber, patient):
    """Appointments on three days: day 2 at 09:00 and 14:00 with the counselor, day 3 at 10:00
    with the prescriber; day 4 cancelled."""
    base = (timezone.now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    made = [
        AppointmentFactory(actor=supervisor, patient=patient, staff=counselor, start=base),
        AppointmentFactory(
            actor=supervisor, patient=patient, staff=counselor, start=base + timedelta(hours=5)
        ),
        AppointmentFactory(
            actor=supervisor,
            patient=patient,
            staff=prescriber,
            start=base + timedelta(days=1, hours=1),
        ),
        AppointmentFactory(
            actor=supervisor, patient=patient, staff=counselor, start=base + timedelta(days=2)
        ),
    ]
    from caseload.services.appointments import appointment_transition

    appointment_transition(appointment=made[3], actor=supervisor, to="cancelled", reason="x")
    return base, made


def ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle["entry"]]


def test_metadata_is_a_capability_statement_without_a_token(anonymous):
    body = fhir(anonymous.get("/fhir/metadata"))
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(types) == {"Appointment", "Patient"}
    names = {p["name"] for p in types["Appointment"]["searchParam"]}
    assert names == {"date", "_lastUpdated", "patient", "actor", "status", "_count"}


def test_an_appointment_reads_as_fhir_with_the_part2_label(integration_client, schedule):
    _, made = schedule
    body = fhir(integration_client.get(f"/fhir/Appointment/{made[0].pk}"))
    assert body["id"] == str(made[0].pk)
    assert body["status"] == "booked"
    assert labelled(body["meta"])
    assert body["meta"]["versionId"] == str(made[0].version)
    refs = [p["actor"].get("reference") for p in body["participant"]]
    assert f"Patient/{made[0].patient_id}" in refs
    assert f"Practitioner/{made[0].staff_id}" in refs
    assert body["start"].endswith("Z")


def test_a_patient_reads_as_demographics_only(integration_client, patient):
    body = fhir(integration_client.get(f"/fhir/Patient/{patient.pk}"))
    assert body["name"] == [{"family": "Synthetic", "given": ["Avery"]}]
    assert body["identifier"][0] == {
        "use": "usual",
        "system": "urn:caseload:program:riverside:mrn",
        "value": patient.mrn,
    }
    assert body["birthDate"] == "1985-05-17"
    assert labelled(body["meta"])
    assert set(body) <= {
        "resourceType",
        "id",
        "meta",
        "identifier",
        "name",
        "birthDate",
        "telecom",
        "address",
    }


def test_search_is_a_searchset_bundle_with_next_links(integration_client, schedule):
    _, made = schedule
    first = fhir(integration_client.get("/fhir/Appointment", {"_count": 2}))
    assert first["type"] == "searchset"
    assert labelled(first["meta"])
    assert all(labelled(e["resource"]["meta"]) for e in first["entry"])
    seen = ids(first)
    assert len(seen) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    second = fhir(integration_client.get(path_of(links["next"])))
    seen += ids(second)
    links = {link["relation"]: link["url"] for link in second["link"]}
    assert "next" not in links
    assert seen == [str(a.pk) for a in sorted(made, key=lambda a: a.start)]
    assert "_cursor=" in path_of(first["link"][1]["url"])


def test_date_prefixes_ge_and_lt_bound_the_start(integration_client, schedule):
    base, made = schedule
    day2 = base.date().isoformat()
    day3 = (base + timedelta(days=1)).date().isoformat()
    same_day = fhir(integration_client.get(f"/fhir/Appointment?date=ge{day2}&date=lt{day3}"))
    assert ids(same_day) == [str(made[0].pk), str(made[1].pk)]
    on_day = fhir(integration_client.get(f"/fhir/Appointment?date={day2}"))
    assert ids(on_day) == ids(same_day)
    moment = (base + timedelta(hours=5)).isoformat().replace("+00:00", "Z")
    from_moment = fhir(integration_client.get(f"/fhir/Appointment?date=ge{moment}"))
    assert ids(from_moment) == [str(a.pk) for a in made[1:]]
    before_moment = fhir(integration_client.get(f"/fhir/Appointment?date=lt{moment}"))
    assert ids(before_moment) == [str(made[0].pk)]


def test_last_updated_filters_by_the_change_time(integration_client, supervisor, schedule, as_user):
    _, made = schedule
    since = timezone.now()
    as_user(supervisor).patch(f"/api/v1/appointments/{made[1].pk}/", {"location": "Room 8"})
    stamp = since.isoformat().replace("+00:00", "Z")
    body = fhir(integration_client.get("/fhir/Appointment", {"_lastUpdated": f"ge{stamp}"}))
    assert ids(body) == [str(made[1].pk)]


def test_patient_actor_and_status_narrow_the_search(
    integration_client, supervisor, prescriber, counselor, schedule
):
    _, made = schedule
    someone = PatientFactory(actor=supervisor)
    AppointmentFactory(actor=supervisor, patient=someone, staff=counselor, overlap_allowed=True)
    by_patient = fhir(
        integration_client.get("/fhir/Appointment", {"patient": f"Patient/{made[0].patient_id}"})
    )
    assert set(ids(by_patient)) == {str(a.pk) for a in made}
    by_actor = fhir(
        integration_client.get("/fhir/Appointment", {"actor": f"Practitioner/{prescriber.pk}"})
    )
    assert ids(by_actor) == [str(made[2].pk)]
    cancelled = fhir(integration_client.get("/fhir/Appointment", {"status": "cancelled"}))
    assert ids(cancelled) == [str(made[3].pk)]
    either = fhir(integration_client.get("/fhir/Appointment", {"status": "cancelled,booked"}))
    assert len(ids(either)) == 5


def test_patient_search_by_identifier(integration_client, patient, other_patient):
    body = fhir(integration_client.get("/fhir/Patient", {"identifier": patient.mrn}))
    assert ids(body) == [str(patient.pk)]
    system = f"urn:caseload:program:riverside:mrn|{other_patient.mrn}"
    assert ids(fhir(integration_client.get("/fhir/Patient", {"identifier": system}))) == [
        str(other_patient.pk)
    ]
    elsewhere = f"urn:caseload:program:hillside:mrn|{patient.mrn}"
    assert ids(fhir(integration_client.get("/fhir/Patient", {"identifier": elsewhere}))) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date=xx2026", "date"),
        ("date=sa2026-01-01", "date"),
        ("date=2026-02-30", "date"),
        ("_count=0", "_count"),
        ("_count=1001", "_count"),
        ("status=done", "status"),
        ("patient=Practitioner/abc", "patient"),
        ("patient=not-a-uuid", "patient"),
        ("_cursor=forged", "_cursor"),
        ("colour=blue", "colour"),
        ("status=booked&status=arrived", "status"),
    ],
)
def test_bad_search_input_is_a_400_operation_outcome_naming_it(integration_client, query, field):
    body = fhir(integration_client.get(f"/fhir/Appointment?{query}"), 400)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "invalid"
    assert body["issue"][0]["expression"] == [field]


def test_errors_are_operation_outcomes(integration_client, anonymous, foreign_patient, db):
    missing = fhir(integration_client.get(f"/fhir/Patient/{foreign_patient.pk}"), 404)
    assert missing["issue"][0]["code"] == "not-found"
    assert (
        fhir(integration_client.get("/fhir/Patient/not-a-uuid"), 404)["issue"][0]["code"]
        == "not-found"
    )
    assert fhir(anonymous.get("/fhir/Appointment"), 401)["issue"][0]["code"] == "login"
    assert fhir(integration_client.get("/fhir/Observation"), 404)["issue"][0]["code"] == "not-found"
    written = fhir(integration_client.post("/fhir/Appointment", {}, format="json"), 405)
    assert written["issue"][0]["code"] == "not-supported"


def test_a_scope_the_token_lacks_is_403(program, patient):
    integration = integration_for(program, scopes=["appointments:read"])
    assert fhir(integration.get("/fhir/Patient"), 403)["issue"][0]["code"] == "forbidden"
    assert (
        fhir(integration.get(f"/fhir/Patient/{patient.pk}"), 403)["issue"][0]["code"] == "forbidden"
    )
    fhir(integration.get("/fhir/Appointment"))


def test_fhir_reads_write_the_disclosure_ledger(integration_client, schedule):
    _, made = schedule
    fhir(integration_client.get("/fhir/Appointment"))
    fhir(integration_client.get(f"/fhir/Patient/{made[0].patient_id}"))
    entries = Disclosure.objects.filter(client=integration_client.record.pk).order_by(
        "disclosed_at"
    )
    assert [e.information for e in entries] == [["appointments"], ["demographics"]]


def test_staff_read_fhir_within_their_access(as_user, counselor, other_counselor, schedule):
    _, made = schedule
    assert len(ids(fhir(as_user(counselor).get("/fhir/Appointment")))) == len(made)
    assert ids(fhir(as_user(other_counselor).get("/fhir/Appointment"))) == []
    assert Appointment.objects.count() == len(made)


def test_a_date_matches_at_the_precision_it_is_written(integration_client, schedule):
    base, made = schedule
    minute = base.strftime("%Y-%m-%dT%H:%M") + "Z"
    assert ids(fhir(integration_client.get("/fhir/Appointment", {"date": minute}))) == [
        str(made[0].pk)
    ]
    eastern = base.astimezone(timezone.get_fixed_timezone(-300)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
    assert ids(fhir(integration_client.get("/fhir/Appointment", {"date": f"eq{eastern}"}))) == [
        str(made[0].pk)
    ]
    month = fhir(integration_client.get("/fhir/Appointment", {"date": base.strftime("%Y-%m")}))
    year = fhir(integration_client.get("/fhir/Appointment", {"date": base.strftime("%Y")}))
    assert set(ids(month)) <= set(ids(year))
    assert str(made[0].pk) in ids(month)


def test_a_search_by_patient_is_audited_against_that_patient_even_when_empty(
    integration_client, supervisor, patient, foreign_patient
):
    from caseload.models import AuditEvent

    someone = PatientFactory(actor=supervisor)  # no appointments
    for named in (str(someone.pk), f"Patient/{someone.pk}"):
        bundle = fhir(integration_client.get("/fhir/Appointment", {"patient": named}))
        assert bundle.get("entry", []) == []
        event = AuditEvent.objects.filter(action="list", resource_type="appointment").latest(
            "occurred_at"
        )
        assert event.patient_id == someone.pk
        assert event.client == integration_client.record.pk
    # Another program's patient is never named (nor confirmed to exist).
    fhir(integration_client.get("/fhir/Appointment", {"patient": str(foreign_patient.pk)}))
    event = AuditEvent.objects.filter(action="list", resource_type="appointment").latest(
        "occurred_at"
    )
    assert (event.patient_id, event.patient_set_id) == (None, None)


@pytest.mark.parametrize("name", ["date", "_lastUpdated"])
@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31",
        "ge9999-12-31",
        "le9999-12-31",
        "gt9999-12-31",
        "9999",
        "9999-12",
        "9999-12-31T23:59:59Z",
        "le9999-12-31T23:59:59.999999-12:00",
        "lt0001-01-01T00:00:00+14:00",
        "0001-01-01",
    ],
)
def test_a_date_at_the_edge_of_the_calendar_is_a_400_not_a_500(integration_client, name, value):
    response = integration_client.get("/fhir/Appointment", {name: value})
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        body = fhir(response, 400)
        assert body["resourceType"] == "OperationOutcome"
