"""The disclosure ledger: written by one service (one INSERT per page, one audit event), read-only
over HTTP, and each patient's accounting of disclosures for up to six years."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseload.errors import Forbidden, InvalidInput
from caseload.models import AuditEvent, Disclosure
from caseload.services.consents import consent_create, consent_revoke
from caseload.services.disclosures import ledger_disclosure
from tests.api.v1.test_break_glass import CRISIS_REASON
from tests.factories import CaseNoteFactory, EnrollmentFactory, PatientFactory

URL = "/api/v1/disclosures/"


def accounting_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/disclosures/"


def consent(actor, patient, information, **changes):
    fields = {
        "recipient_name": "County drug court",
        "purpose": "Report attendance to the court.",
        "information": information,
        "expires_at": timezone.now() + timedelta(days=90),
        "signed_by": "The patient",
        "signed_at": timezone.now() - timedelta(hours=1),
        "revocation_notice": True,
        "redisclosure_statement": True,
        "treatment_not_conditioned_statement": True,
        "signer_role": "patient",
    } | changes
    return consent_create(actor=actor, patient=patient, fields=fields)


def disclose(patients, basis="qsoa", information=("drug_screens",), **changes):
    return ledger_disclosure(
        patients=patients,
        recipient_name=changes.pop("recipient_name", "County drug court"),
        purpose="Report attendance to the court.",
        information=list(information),
        basis=basis,
        **changes,
    )


@pytest.fixture
def page(supervisor, counselor):
    patients = []
    for _ in range(25):
        patient = PatientFactory(actor=supervisor)
        EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselor)
        patients.append(patient)
    return patients


def test_a_page_of_disclosures_is_one_insert_and_one_audit_event(page, supervisor):
    with CaptureQueriesContext(connection) as captured:
        rows = disclose(page, actor=supervisor)
    inserts = [
        q["sql"] for q in captured if q["sql"].startswith('INSERT INTO "caseload_disclosure"')
    ]
    assert len(inserts) == 1
    assert len(rows) == Disclosure.objects.count() == 25
    event = AuditEvent.objects.get(action="disclose")
    assert event.patient_set.size == 25
    assert event.detail["basis"] == "qsoa" and event.detail["count"] == 25


def test_under_consent_each_patient_needs_an_active_consent_naming_the_recipient(
    counselor, patient, other_patient, other_counselor
):
    given = consent(counselor, patient, ["appointments", "enrollments"])
    (row,) = disclose([patient], basis="consent", information=["appointments"], actor=counselor)
    assert row.consent == given
    with pytest.raises(Forbidden) as refused:
        disclose([patient, other_patient], basis="consent", information=["appointments"])
    assert refused.value.code == "no_consent"
    with pytest.raises(Forbidden):
        disclose([patient], basis="consent", information=["appointments"], recipient_name="Other")
    with pytest.raises(Forbidden):
        disclose([patient], basis="consent", information=["medications"])
    assert Disclosure.objects.count() == 1


def test_a_revoked_or_expired_consent_covers_nothing(counselor, patient, monkeypatch):
    revoked = consent(counselor, patient, ["appointments"])
    consent_revoke(consent=revoked, actor=counselor)
    with pytest.raises(Forbidden):
        disclose([patient], basis="consent", information=["appointments"])
    expiring = consent(
        counselor, patient, ["appointments"], expires_at=timezone.now() + timedelta(hours=1)
    )
    (row,) = disclose([patient], basis="consent", information=["appointments"])
    assert row.consent == expiring
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    with pytest.raises(Forbidden):
        disclose([patient], basis="consent", information=["appointments"])
    assert Disclosure.objects.count() == 1


def test_counseling_notes_go_only_alone_and_only_under_a_notes_consent(counselor, patient):
    consent(counselor, patient, ["appointments", "enrollments"])
    with pytest.raises(InvalidInput) as bundled:
        disclose([patient], basis="consent", information=["notes", "appointments"])
    assert bundled.value.code == "notes_not_alone"
    with pytest.raises(Forbidden):
        disclose([patient], basis="consent", information=["notes"])
    consent(counselor, patient, ["notes"])
    (row,) = disclose([patient], basis="consent", information=["notes"])
    assert row.information == ["notes"]


def test_the_ledger_is_read_only_and_scoped(as_user, supervisor, counselor, patient, other_patient):
    disclose([patient, other_patient], actor=supervisor)
    mine = as_user(counselor).get(URL).json()["results"]
    assert [row["patient"] for row in mine] == [str(patient.pk)]
    assert set(mine[0]) == {
        "id",
        "patient",
        "disclosed_at",
        "recipient_name",
        "client",
        "information",
        "purpose",
        "basis",
        "consent",
        "recipient_address",
        "emergency",
        "disclosed_by",
        "court_order_reference",
        "recorded_at",
    }
    assert len(as_user(supervisor).get(URL).json()["results"]) == 2
    assert as_user(supervisor).post(URL, {}).status_code == 405
    assert as_user(supervisor).delete(f"{URL}{mine[0]['id']}/").status_code == 405


def test_the_ledger_filters(as_user, supervisor, patient, other_patient):
    disclose([patient], actor=supervisor)
    disclose([other_patient], actor=supervisor, information=["appointments"])
    api = as_user(supervisor)
    assert len(api.get(URL, {"patient": str(patient.pk)}).json()["results"]) == 1
    assert len(api.get(URL, {"basis": "qsoa"}).json()["results"]) == 2
    assert api.get(URL, {"basis": "consent"}).json()["results"] == []
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert api.get(URL, {"disclosed_after": later}).json()["results"] == []


def test_the_accounting_lists_six_years_of_a_patients_disclosures(
    as_user, counselor, patient, other_patient
):
    now = timezone.now()
    disclose([patient], disclosed_at=now - timedelta(days=365 * 7))  # before the six years
    five_years = disclose([patient], disclosed_at=now - timedelta(days=365 * 5))[0]
    recent = disclose([patient])[0]
    disclose([other_patient])
    api = as_user(counselor)
    response = api.get(accounting_url(patient))
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(recent.pk), str(five_years.pk)]
    window = api.get(
        accounting_url(patient),
        {
            "since": (now - timedelta(days=365 * 6)).isoformat(),
            "until": (now - timedelta(days=1)).isoformat(),
        },
    )
    assert [r["id"] for r in window.json()["results"]] == [str(five_years.pk)]
    event = AuditEvent.objects.filter(actor=counselor, resource_type="disclosure").latest(
        "occurred_at"
    )
    assert (event.action, event.patient_id, event.detail["view"]) == (
        "list",
        patient.pk,
        "accounting",
    )


def test_the_accounting_reaches_back_six_years_at_most(as_user, counselor, patient):
    api = as_user(counselor)
    too_early = (timezone.now() - timedelta(days=365 * 7)).isoformat()
    response = api.get(accounting_url(patient), {"since": too_early})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("since", "out_of_range")
    ]
    backwards = api.get(
        accounting_url(patient),
        {
            "since": timezone.now().isoformat(),
            "until": (timezone.now() - timedelta(days=1)).isoformat(),
        },
    )
    assert [e["field"] for e in backwards.json()["errors"]] == ["until"]
    assert api.get(accounting_url(patient), {"since": "last year"}).status_code == 400


def test_export_sends_what_the_consent_covers_and_writes_the_ledger(as_user, counselor, patient):
    CaseNoteFactory(actor=counselor, patient=patient)
    given = consent(counselor, patient, ["demographics", "enrollments"])
    response = as_user(counselor).post(
        f"/api/v1/patients/{patient.pk}/export/", {"consent": str(given.pk)}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body["records"]) == {"demographics", "enrollments"}  # no notes
    assert body["records"]["demographics"]["id"] == str(patient.pk)
    assert (
        body["notice"] == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    )
    row = Disclosure.objects.get()
    assert (row.basis, row.consent, row.patient) == ("consent", given, patient)
    assert row.information == ["demographics", "enrollments"]
    event = AuditEvent.objects.get(action="export")
    assert (event.actor, event.patient_id, event.status_code) == (counselor, patient.pk, 200)


def test_export_refuses_an_inactive_consent_and_writes_nothing(as_user, counselor, patient):
    given = consent(counselor, patient, ["appointments"])
    consent_revoke(consent=given, actor=counselor)
    response = as_user(counselor).post(
        f"/api/v1/patients/{patient.pk}/export/", {"consent": str(given.pk)}
    )
    assert (response.status_code, response.json()["code"]) == (409, "consent_revoked")
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.get(action="export").outcome == "denied"


def test_export_needs_a_consent_of_this_patient(
    as_user, counselor, patient, other_patient, supervisor
):
    theirs = consent(supervisor, other_patient, ["appointments"])
    response = as_user(counselor).post(
        f"/api/v1/patients/{patient.pk}/export/", {"consent": str(theirs.pk)}
    )
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("consent", "does_not_exist")
    ]
    assert not Disclosure.objects.exists()


def test_break_the_glass_access_does_not_export(as_user, other_counselor, supervisor, patient):
    given = consent(supervisor, patient, ["appointments"])
    api = as_user(other_counselor)
    assert (
        api.post(
            f"/api/v1/patients/{patient.pk}/break-glass/",
            CRISIS_REASON,
        ).status_code
        == 201
    )
    response = api.post(f"/api/v1/patients/{patient.pk}/export/", {"consent": str(given.pk)})
    assert response.status_code == 403
    assert not Disclosure.objects.exists()
