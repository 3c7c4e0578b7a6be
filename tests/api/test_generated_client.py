"""A client generated from the served schema by the documented command works against a live server.

The schema is fetched from a real server thread (`live_server`), the client is generated with
openapi-python-client exactly as docs/api.md says, imported, and used as a counselor with a
personal token: list patients, write a note and read it back, and parse errors as `Error`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import shlex
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from caseload.services.amendments import amendment_request_create
from caseload.services.assessments import assessment_record
from caseload.services.break_glass import break_glass_open
from caseload.services.calendar_feeds import calendar_feed_create
from caseload.services.consents import consent_create
from caseload.services.disclosures import ledger_disclosure
from caseload.services.follow_ups import follow_up_for_noshow
from caseload.services.integrations import integration_create
from caseload.services.tokens import token_issue
from caseload.services.webhooks import webhook_create
from tests.api.v1.test_break_glass import CRISIS_REASON
from tests.api.v1.test_permission_matrix import HOOK_URL, SEVERE_COWS_ITEMS, consent_body
from tests.conftest import webhook_client
from tests.factories import (
    PERSONA_PASSWORD,
    AppointmentFactory,
    AssessmentFactory,
    CaseNoteFactory,
    DrugScreenFactory,
    EnrollmentFactory,
    PatientFactory,
    ReferralFactory,
)
from tests.history_records import fill_history

ROOT = Path(__file__).resolve().parents[2]
API_REFERENCE = (ROOT / "docs" / "api.md").read_text()
BIN = Path(sys.executable).parent
PACKAGE = "caseload_client"


def documented_generate_command() -> list[str]:
    """docs/api.md's `openapi-python-client generate` line, run with this virtualenv's copy."""
    section = API_REFERENCE[API_REFERENCE.index("## Generating a client") :]
    block = section[section.index("```bash\n") : section.index("```\n", 8)]
    command = block.replace("\\\n", " ")
    (line,) = [ln for ln in command.splitlines() if "openapi-python-client generate" in ln]
    argv = shlex.split(line)
    assert argv[0] == ".venv/bin/openapi-python-client"
    config = argv.index("--config") + 1
    argv[config] = str(ROOT / argv[config])  # the repository's file, wherever the client is made
    return [str(BIN / "openapi-python-client"), *argv[1:]]


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory):
    """Where the client is generated, once for the module; removed from the import path after."""
    tmp_path = tmp_path_factory.mktemp("generated")
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def generated(transactional_db, live_server, client_dir):
    """The client generated from the live server's schema (the server reads the test DB)."""
    if (client_dir / PACKAGE).exists():
        return importlib.import_module(PACKAGE)
    tmp_path = client_dir
    schema = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=30)
    assert schema.status_code == 200
    (tmp_path / "caseload-openapi.json").write_bytes(schema.content)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603  (a fixed command from docs/api.md)
        documented_generate_command(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output  # nothing was skipped
    assert elapsed < 60
    return importlib.import_module(PACKAGE)


def api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_a_generated_client_works_against_a_live_server(
    transactional_db, live_server, generated, counselor, patient
):
    models = importlib.import_module(f"{PACKAGE}.models")
    _, raw = token_issue(staff=counselor, name="generated client")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=raw, timeout=30.0)

    listed = api("patients.patients_list").sync_detailed(client=client, page_size=100)
    assert listed.status_code == 200
    assert isinstance(listed.parsed, models.PaginatedPatientList)
    assert [p.id for p in listed.parsed.results] == [patient.pk]
    assert listed.parsed.results[0].family_name == "Synthetic"

    written_at = datetime(2026, 1, 5, 15, 30, tzinfo=UTC)
    created = api("notes.notes_create").sync_detailed(
        client=client,
        body=models.CaseNoteRequest(
            patient=patient.pk, written_at=written_at, body="Attended group; cravings lower."
        ),
    )
    assert created.status_code == 201, created.content
    note = created.parsed
    assert isinstance(note, models.CaseNote)
    assert note.author == counselor.pk
    assert note.status == models.RecordStatusEnum.FINAL
    etag = created.headers["ETag"]

    read = api("notes.notes_retrieve").sync_detailed(client=client, id=note.id)
    assert read.status_code == 200
    assert read.parsed.to_dict() == note.to_dict()
    assert read.parsed.written_at == written_at
    assert read.headers["ETag"] == etag

    unchanged = api("notes.notes_retrieve").sync_detailed(
        client=client, id=note.id, if_none_match=etag
    )
    assert unchanged.status_code == 304
    assert unchanged.parsed is None


def test_the_generated_client_parses_errors_as_the_error_model(
    transactional_db, live_server, generated, counselor, patient
):
    models = importlib.import_module(f"{PACKAGE}.models")
    _, raw = token_issue(staff=counselor, name="generated client")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=raw, timeout=30.0)

    missing = api("notes.notes_retrieve").sync_detailed(client=client, id=uuid.uuid4())
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Error)
    assert (missing.parsed.code, missing.parsed.errors) == ("not_found", [])

    too_big = api("patients.patients_list").sync_detailed(client=client, page_size=5000)
    assert too_big.status_code == 400
    assert isinstance(too_big.parsed, models.Error)
    assert too_big.parsed.code == "validation_error"
    (error,) = too_big.parsed.errors
    assert isinstance(error, models.FieldError)
    assert (error.field, error.code) == ("page_size", "invalid_page_size")

    note = api("notes.notes_create").sync(
        client=client,
        body=models.CaseNoteRequest(
            patient=patient.pk, written_at=datetime(2026, 1, 5, tzinfo=UTC), body="First."
        ),
    )
    stale = api("notes.notes_partial_update").sync_detailed(
        client=client,
        id=note.id,
        body=models.PatchedCaseNoteRequest(body="Amended."),
        if_match=f'"v{note.version + 1}"',
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Error)
    assert stale.parsed.code == "stale_etag"

    anonymous = generated.Client(base_url=live_server.url, timeout=30.0)
    refused = api("me.me_retrieve").sync_detailed(client=anonymous)
    assert refused.status_code == 401
    assert refused.parsed.code == "not_authenticated"


def test_the_generated_client_fetches_the_withdrawal_chart_as_svg(
    transactional_db, live_server, generated, counselor, patient
):
    """The chart is documented as image/svg+xml: the client hands back its bytes, never JSON."""
    types = importlib.import_module(f"{PACKAGE}.types")
    trend = api("patients.patients_withdrawal_trend")
    formats = importlib.import_module(f"{PACKAGE}.models.patients_withdrawal_trend_format")
    AssessmentFactory(actor=counselor, patient=patient)
    _, raw = token_issue(staff=counselor, name="generated client")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=raw, timeout=30.0)

    chart = trend.sync_detailed(
        client=client, id=patient.pk, format_=formats.PatientsWithdrawalTrendFormat.SVG
    )
    assert chart.status_code == 200
    assert chart.headers["Content-Type"].startswith("image/svg+xml")
    assert isinstance(chart.parsed, types.File)
    svg = chart.parsed.payload.read().decode()
    assert "<svg" in svg and "COWS" in svg

    series = trend.sync_detailed(client=client, id=patient.pk)  # no format: the JSON series
    assert series.status_code == 200
    assert series.headers["Content-Type"].startswith("application/json")
    body = json.loads(series.parsed.payload.read())
    assert [s["instrument"] for s in body["series"]] == ["cows", "sows"]

    missing = trend.sync_detailed(
        client=client, id=uuid.uuid4(), format_=formats.PatientsWithdrawalTrendFormat.SVG
    )
    assert missing.status_code == 404  # errors stay JSON, parsed as Error
    assert missing.parsed.code == "not_found"


def get_operations(package) -> list:
    """Every generated GET operation module, as (tag, name, module)."""
    found = []
    for tag in pkgutil.iter_modules(package.api.__path__):
        tag_package = importlib.import_module(f"{PACKAGE}.api.{tag.name}")
        for operation in pkgutil.iter_modules(tag_package.__path__):
            module = importlib.import_module(f"{PACKAGE}.api.{tag.name}.{operation.name}")
            if '"method": "get"' in inspect.getsource(module._get_kwargs):
                found.append((tag.name, operation.name, module))
    return found


def test_the_generated_client_reads_every_resource_in_every_state(
    transactional_db, live_server, generated, supervisor, counselor, prescriber, patient
):
    """Records moved past their first status still parse: each answer's enum lists them all."""
    models = importlib.import_module(f"{PACKAGE}.models")
    _, raw = token_issue(staff=supervisor, name="generated client")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=raw, timeout=30.0)

    enrollment = api("enrollments.enrollments_list").sync(client=client).results[0]
    discharged = api("enrollments.enrollments_discharge").sync(
        client=client,
        id=enrollment.id,
        body=models.DischargeRequest(discharge_reason=models.DischargeReasonEnum.COMPLETED),
    )
    assert discharged.status == models.EnrollmentStatusEnum.DISCHARGED

    start = datetime.now(UTC) + timedelta(days=3)
    booked = api("appointments.appointments_create").sync(
        client=client,
        body=models.AppointmentRequest(
            patient=patient.pk,
            staff=counselor.pk,
            kind=models.KindEnum.COUNSELING,
            start=start,
            end=start + timedelta(hours=1),
        ),
    )
    cancelled = api("appointments.appointments_cancel").sync(
        client=client, id=booked.id, body=models.CancelRequest(reason="Asked to reschedule.")
    )
    assert cancelled.status == models.AppointmentStatusEnum.CANCELLED

    ordered = api("medications.medications_create").sync(
        client=client,
        body=models.MedicationRequest(
            patient=patient.pk,
            medication=models.MedicationEnum.BUPRENORPHINE,
            dose="8",
            dose_unit=models.DoseUnitEnum.MG,
            frequency="once daily",
            route=models.RouteEnum.SUBLINGUAL,
            start_date=date(2026, 1, 5),
            prescriber=prescriber.pk,
        ),
    )
    corrected = api("medications.medications_entered_in_error").sync(
        client=client, id=ordered.id, body=models.EnteredInErrorRequest(reason="Wrong patient.")
    )
    assert corrected.status == models.MedicationStatusEnum.ENTERED_IN_ERROR

    for factory in (AssessmentFactory, CaseNoteFactory, DrugScreenFactory, ReferralFactory):
        factory(actor=counselor, patient=patient)
    # Treatment records of a patient still in care: placements and a draft plan.
    in_care = PatientFactory(actor=supervisor)
    EnrollmentFactory(actor=supervisor, patient=in_care, counselor=counselor, prescriber=prescriber)
    fill_history(in_care, counselor, prescriber, 7)
    calendar_feed_create(staff=supervisor, password=PERSONA_PASSWORD)
    integration_create(
        name="Reminders", program=supervisor.program, scopes=["appointments:read"], actor=supervisor
    )
    # What background work leaves, one of each for the supervisor: an alert about a patient
    # with no prescriber, a follow-up after the supervisor's missed appointment, a webhook.
    unassigned = PatientFactory(actor=supervisor)
    assessment_record(
        patient=unassigned,
        actor=supervisor,
        instrument="cows",
        items=SEVERE_COWS_ITEMS,
        administered_at=datetime.now(UTC),
    )
    follow_up_for_noshow(
        appointment=AppointmentFactory(actor=supervisor, patient=unassigned, staff=supervisor)
    )
    webhook_create(
        actor=supervisor,
        fields={
            "url": HOOK_URL,
            "events": ["appointment.cancelled"],
            "client_id": webhook_client(supervisor.program).pk,
        },
    )
    # And one of each compliance record: a break-the-glass opening, a consent, a disclosure.
    break_glass_open(actor=counselor, patient=unassigned, reason=CRISIS_REASON["reason"])
    consent_fields = {k: v for k, v in consent_body(patient).items() if k != "patient"}
    consent_create(
        actor=counselor,
        patient=patient,
        fields=consent_fields
        | {
            "expires_at": datetime.now(UTC) + timedelta(days=180),
            "signed_at": datetime.now(UTC) - timedelta(hours=1),
        },
    )
    ledger_disclosure(
        patients=[patient],
        recipient_name="Regional laboratory",
        purpose="Confirmatory testing",
        information=["drug_screens"],
        basis="qsoa",
        actor=supervisor,
    )
    amendment_request_create(
        actor=counselor,
        patient=patient,
        fields={
            "record": assessment_record(
                patient=patient,
                actor=counselor,
                instrument="cows",
                items=SEVERE_COWS_ITEMS,
                administered_at=datetime.now(UTC),
            ).pk,
            "requested_change": "The pulse was 72.",
        },
    )
    read = []
    operations = get_operations(generated)
    lists = {tag: module for tag, name, module in operations if name == f"{tag}_list"}
    for tag, name, module in operations:
        arguments = {}
        if "id" in inspect.signature(module.sync_detailed).parameters:
            arguments["id"] = lists[tag].sync(client=client).results[0].id
        answer = module.sync_detailed(client=client, **arguments)
        assert answer.status_code == 200, (name, answer.content[:300])
        assert answer.parsed is not None and not isinstance(answer.parsed, models.Error), name
        read.append(name)
    assert {"patients_history", "notes_retrieve", "referrals_retrieve", "staff_list"} <= set(read)
    assert len(read) >= 24
