"""The accounting of disclosures as CSV and as a PDF the patient reads (parsed back with pypdf):
recipients by legal name and address, repeated disclosures summarised, disclosures made outside
the system one by one, the 42 CFR 2.32 notice on every page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.utils import timezone
from pypdf import PdfReader

from caseload.models import AuditEvent, IntegrationClient
from caseload.notice import PART2_NOTICE
from caseload.services.disclosures import ledger_client_disclosures, ledger_disclosure
from tests.api.v1.test_disclosures_off_system import emergency
from tests.conftest import integration_for

PDF, CSV = "application/pdf", "text/csv"


def url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/disclosures/"


def pdf_pages(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == PDF
    reader = PdfReader(io.BytesIO(response.content))
    # Cells wrap: words are compared with their spacing made plain.
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(CSV)
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def feed_disclosures(program, patient, times: int) -> IntegrationClient:
    """An integration client with a legal name and address that received `patient` `times`
    times (as a feed does, one ledger row per page)."""
    integration = integration_for(program, name="reminders")
    client = integration.record
    IntegrationClient.objects.filter(pk=client.pk).update(
        legal_name="Synthetic Reminders LLC", address="200 Main Street, Springfield"
    )
    client.refresh_from_db()
    for _ in range(times):
        ledger_client_disclosures(
            client=client,
            patients=[patient],
            information=["appointments"],
            purpose="Appointment reminders",
            basis="qsoa",
        )
    return client


def test_repeated_disclosures_are_one_line_with_first_last_and_count(
    as_user, program, supervisor, counselor, patient
):
    feed_disclosures(program, patient, times=3)
    as_user(supervisor).post(url(patient), emergency())
    rows = csv_rows(as_user(counselor).get(url(patient), HTTP_ACCEPT=CSV))
    assert len(rows) == 2
    series = next(r for r in rows if r["basis"] == "qsoa")
    assert series["count"] == "3"
    assert series["recipient_name"] == "Synthetic Reminders LLC"
    assert series["recipient_address"] == "200 Main Street, Springfield"
    assert series["information"] == "appointments"
    assert series["first_disclosed_at"] <= series["last_disclosed_at"]
    assert series["first_disclosed_at"].endswith("Z")
    recorded = next(r for r in rows if r["basis"] == "medical_emergency")
    assert (recorded["count"], recorded["disclosed_by"]) == ("1", "Nurse J. Rivera (synthetic)")
    assert recorded["recorded_at"]


def test_the_pdf_names_program_patient_window_and_every_entry(
    as_user, program, supervisor, counselor, patient
):
    feed_disclosures(program, patient, times=2)
    as_user(supervisor).post(url(patient), emergency())
    pages = pdf_pages(as_user(counselor).get(url(patient), HTTP_ACCEPT=PDF))
    whole = " ".join(pages)
    assert "Accounting of disclosures" in whole
    assert program.name in whole
    assert f"{patient.given_name} {patient.family_name}" in whole and patient.mrn in whole
    assert "Synthetic Reminders LLC" in whole and "200 Main Street, Springfield" in whole
    assert "(2 times)" in whole
    assert "Qualified service organization agreement" in whole
    assert "Medical emergency (42 CFR 2.51)" in whole
    assert "Nurse J. Rivera (synthetic)" in whole
    assert "St. Synthetic Emergency Department" in whole
    assert all(PART2_NOTICE in page for page in pages)


def test_a_long_accounting_carries_the_notice_on_every_page(as_user, supervisor, patient):
    for n in range(60):
        ledger_disclosure(
            patients=[patient],
            recipient_name=f"Laboratory {n}",
            purpose=f"Confirmatory testing, request {n}",
            information=["drug_screens"],
            basis="qsoa",
            actor=supervisor,
        )
    pages = pdf_pages(as_user(supervisor).get(url(patient), HTTP_ACCEPT=PDF))
    assert len(pages) > 1
    assert all(PART2_NOTICE in page and f"Page {i}" in page for i, page in enumerate(pages, 1))
    whole = " ".join(pages)
    assert all(f"Laboratory {n}" in whole for n in range(60))


def test_an_empty_window_says_so(as_user, supervisor, patient):
    pages = pdf_pages(as_user(supervisor).get(url(patient), HTTP_ACCEPT=PDF))
    assert "No disclosures were recorded in this period." in pages[0]
    assert csv_rows(as_user(supervisor).get(url(patient), HTTP_ACCEPT=CSV)) == []


def test_the_window_applies_and_over_six_years_is_refused(as_user, supervisor, patient):
    as_user(supervisor).post(url(patient), emergency())
    later = (timezone.now() - timedelta(hours=1)).isoformat()
    assert csv_rows(as_user(supervisor).get(url(patient), {"since": later}, HTTP_ACCEPT=CSV)) == []
    too_old = (timezone.now() - timedelta(days=6 * 366)).isoformat()
    response = as_user(supervisor).get(url(patient), {"since": too_old}, HTTP_ACCEPT=PDF)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("since", "out_of_range")
    ]


def test_a_document_is_audited_and_carries_the_notice_header(as_user, counselor, patient):
    response = as_user(counselor).get(url(patient), HTTP_ACCEPT=CSV)
    assert response["Caseload-Part2-Notice"] == PART2_NOTICE
    event = AuditEvent.objects.filter(action="list", resource_type="disclosure").latest(
        "occurred_at"
    )
    assert (event.actor, event.patient_id) == (counselor, patient.pk)
    assert event.detail["format"] == "csv"


def test_front_desk_and_strangers_get_no_accounting(as_user, front_desk, other_counselor, patient):
    assert as_user(front_desk).get(url(patient), HTTP_ACCEPT=PDF).status_code == 403
    assert as_user(other_counselor).get(url(patient), HTTP_ACCEPT=PDF).status_code == 404


def test_a_spreadsheet_formula_in_a_field_stays_text(as_user, supervisor, patient):
    as_user(supervisor).post(url(patient), emergency(purpose="=HYPERLINK(1)"))
    rows = csv_rows(as_user(supervisor).get(url(patient), HTTP_ACCEPT=CSV))
    assert rows[0]["purpose"] == "'=HYPERLINK(1)"


def test_create_integration_records_the_legal_name_and_address(
    as_user, program, supervisor, patient
):
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "create_integration",
        "labs",
        "--program",
        program.code,
        "--scopes",
        "patients:read",
        "--legal-name",
        "Regional Laboratory Services Inc.",
        "--address",
        "5 Test Tube Lane, Springfield",
        stdout=out,
    )
    client_id = json.loads(out.getvalue().strip().split("\n")[-1])["client_id"]
    client = IntegrationClient.objects.get(application__client_id=client_id)
    ledger_client_disclosures(
        client=client,
        patients=[patient],
        information=["demographics"],
        purpose="Match specimens to patients",
        basis="qsoa",
    )
    (row,) = csv_rows(as_user(supervisor).get(url(patient), HTTP_ACCEPT=CSV))
    assert row["recipient_name"] == "Regional Laboratory Services Inc."
    assert row["recipient_address"] == "5 Test Tube Lane, Springfield"
    listed = as_user(supervisor).get(f"/api/v1/integrations/{client.pk}/").json()
    assert (listed["legal_name"], listed["address"]) == (
        "Regional Laboratory Services Inc.",
        "5 Test Tube Lane, Springfield",
    )
