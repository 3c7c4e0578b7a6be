"""Disclosures made outside the system, recorded by a supervisor with what each legal basis
documents: append-only, in the accounting and in the ledger's tamper evidence."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from django.db import connection
from django.utils import timezone

from caseload.models import AuditEvent, Disclosure
from caseload.services.audit_chain import audit_verify
from tests.api.v1.test_permission_matrix import consent_body
from tests.caseload.test_audit_chain import as_superuser


def url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/disclosures/"


def errors_of(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.json()
    return sorted((e["field"], e["code"]) for e in response.json()["errors"])


def emergency(**extra) -> dict:
    return {
        "basis": "medical_emergency",
        "recipient": "Dr. R. Okafor, St. Synthetic Emergency Department",
        "recipient_address": "10 Hospital Way, Springfield",
        "information": ["medications"],
        "disclosed_at": (timezone.now() - timedelta(hours=5)).isoformat(),
        "purpose": "Treat a suspected overdose",
        "emergency": "Unresponsive on arrival; suspected opioid overdose",
        "disclosed_by": "Nurse J. Rivera (synthetic)",
    } | extra


def test_a_supervisor_records_a_medical_emergency_disclosure(as_user, supervisor, patient):
    response = as_user(supervisor).post(url(patient), emergency())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["basis"] == "medical_emergency"
    assert body["recipient_name"].startswith("Dr. R. Okafor")
    assert body["recipient_address"] == "10 Hospital Way, Springfield"
    assert body["emergency"].startswith("Unresponsive")
    assert body["disclosed_by"] == "Nurse J. Rivera (synthetic)"
    assert body["recorded_at"] is not None and body["client"] is None
    row = Disclosure.objects.get(pk=body["id"])
    assert (row.actor, row.patient_id) == (supervisor, patient.pk)
    event = AuditEvent.objects.get(action="create", resource_type="disclosure")
    assert (event.actor, event.patient_id, event.status_code) == (supervisor, patient.pk, 201)
    assert event.detail["off_system"] is True


def test_each_basis_names_what_it_is_missing_at_once(as_user, supervisor, patient):
    api = as_user(supervisor)
    bare = {k: v for k, v in emergency().items() if k not in ("emergency", "disclosed_by")}
    assert errors_of(api.post(url(patient), bare)) == [
        ("disclosed_by", "required"),
        ("emergency", "required"),
    ]
    court = bare | {"basis": "court_order"}
    assert errors_of(api.post(url(patient), court)) == [("court_order_reference", "required")]
    consent = bare | {"basis": "consent"}
    assert errors_of(api.post(url(patient), consent)) == [("consent", "required")]
    assert errors_of(api.post(url(patient), {})) == [
        ("basis", "required"),
        ("disclosed_at", "required"),
        ("information", "required"),
        ("purpose", "required"),
        ("recipient", "required"),
    ]
    assert not Disclosure.objects.exists()


def test_fields_of_another_basis_are_refused(as_user, supervisor, patient):
    body = emergency(basis="research", court_order_reference="Case 12")
    assert errors_of(as_user(supervisor).post(url(patient), body)) == [
        ("court_order_reference", "not_for_basis"),
        ("disclosed_by", "not_for_basis"),
        ("emergency", "not_for_basis"),
    ]


def test_a_disclosure_in_the_future_or_bundling_notes_is_refused(as_user, supervisor, patient):
    body = emergency(
        disclosed_at=(timezone.now() + timedelta(days=1)).isoformat(),
        information=["notes", "medications"],
    )
    assert errors_of(as_user(supervisor).post(url(patient), body)) == [
        ("disclosed_at", "out_of_range"),
        ("information", "notes_not_alone"),
    ]


@pytest.mark.parametrize(
    ("basis", "extra"),
    [
        ("court_order", {"court_order_reference": "Springfield County Court, order 2026-117"}),
        ("audit_evaluation", {}),
        ("research", {}),
    ],
)
def test_every_basis_can_be_recorded(as_user, supervisor, patient, basis, extra):
    body = {k: v for k, v in emergency().items() if k not in ("emergency", "disclosed_by")}
    response = as_user(supervisor).post(url(patient), body | {"basis": basis} | extra)
    assert response.status_code == 201, response.json()
    assert response.json()["basis"] == basis


def test_a_consent_relied_on_must_be_the_patients_in_force_and_cover_it(
    as_user, counselor, supervisor, patient, other_patient
):
    api = as_user(supervisor)
    mine = api.post("/api/v1/consents/", consent_body(patient)).json()
    theirs = api.post("/api/v1/consents/", consent_body(other_patient)).json()
    base = {k: v for k, v in emergency().items() if k not in ("emergency", "disclosed_by")}
    recently = (timezone.now() - timedelta(minutes=10)).isoformat()  # after it was signed
    base |= {"basis": "consent", "information": ["appointments"], "disclosed_at": recently}
    assert errors_of(api.post(url(patient), base | {"consent": theirs["id"]})) == [
        ("consent", "does_not_exist")
    ]
    before = (timezone.now() - timedelta(days=3)).isoformat()
    assert errors_of(
        api.post(url(patient), base | {"consent": mine["id"], "disclosed_at": before})
    ) == [("consent", "consent_not_in_force")]
    uncovered = base | {"consent": mine["id"], "information": ["medications"]}
    assert errors_of(api.post(url(patient), uncovered)) == [("consent", "not_covered")]
    ok = api.post(url(patient), base | {"consent": mine["id"]})
    assert ok.status_code == 201, ok.json()
    assert ok.json()["consent"] == mine["id"]


@pytest.mark.parametrize("persona", ["counselor", "prescriber", "front_desk"])
def test_only_a_supervisor_records_one(request, as_user, patient, persona):
    response = as_user(request.getfixturevalue(persona)).post(url(patient), emergency())
    assert response.status_code == 403
    assert not Disclosure.objects.exists()


def test_another_programs_patient_is_404(as_user, supervisor, foreign_patient):
    assert as_user(supervisor).post(url(foreign_patient), emergency()).status_code == 404


def test_it_is_in_the_ledger_and_the_accounting(as_user, supervisor, counselor, patient):
    recorded = as_user(supervisor).post(url(patient), emergency()).json()
    listed = as_user(counselor).get(url(patient)).json()["results"]
    assert [d["id"] for d in listed] == [recorded["id"]]
    ledger = as_user(counselor).get("/api/v1/disclosures/", {"basis": "medical_emergency"})
    assert [d["id"] for d in ledger.json()["results"]] == [recorded["id"]]


def test_it_is_sealed_and_a_change_by_hand_is_named(as_user, supervisor, patient):
    recorded = as_user(supervisor).post(url(patient), emergency()).json()
    assert audit_verify().ok
    as_superuser(
        f"UPDATE {Disclosure._meta.db_table} SET emergency = %s WHERE id = %s",  # noqa: S608
        [
            "nothing much",
            UUID(recorded["id"]).hex if connection.vendor == "sqlite" else recorded["id"],
        ],
    )
    result = audit_verify()
    assert not result.ok
    assert result.first_broken == recorded["id"]


def test_the_ledger_stays_append_only(as_user, supervisor, patient):
    recorded = as_user(supervisor).post(url(patient), emergency()).json()
    api = as_user(supervisor)
    assert api.patch(f"/api/v1/disclosures/{recorded['id']}/", {"purpose": "x"}).status_code == 405
    assert api.delete(f"/api/v1/disclosures/{recorded['id']}/").status_code == 405
