"""Schema fuzzing: every operation of the OpenAPI document, as every persona, answers as documented.

Schemathesis generates requests from the document served at `/api/schema/` (valid and invalid
data) and sends them to the WSGI application in-process, inside the test's transaction, with a
persona's real token. Every answer must be no server error, carry a documented status code and
content type, and match the documented body and headers; invalid data must be refused with a
4xx. Path ids are drawn both at random (404) and from the records seeded for the persona, so
the reads, changes and state-change actions reach the services, not only the 404 path.

A stateful run follows the links schemathesis infers from the document, chaining requests
(list or create a patient, then read, change and export it).

CI runs a small, derandomized budget (`CASELOAD_FUZZ_EXAMPLES`, default 4 per operation;
`CASELOAD_FUZZ_STEPS`, default 6 per chain; no coverage phase). docs/api.md "Schema fuzzing" gives
the nightly command, which raises both and turns on the coverage phase
(`CASELOAD_FUZZ_COVERAGE=1`: boundary values and every kind of invalid value per field).
"""

from __future__ import annotations

import functools
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from caseload.services.calendar_feeds import calendar_feed_create
from caseload.services.tokens import token_issue
from tests.conftest import integration_for
from tests.factories import (
    PERSONA_PASSWORD,
    AppointmentFactory,
    AssessmentFactory,
    CaseNoteFactory,
    DrugScreenFactory,
    MedicationRecordFactory,
    ReferralFactory,
)

EXAMPLES = int(os.environ.get("CASELOAD_FUZZ_EXAMPLES", "4"))
COVERAGE = os.environ.get("CASELOAD_FUZZ_COVERAGE", "") not in ("", "0")
STEPS = int(os.environ.get("CASELOAD_FUZZ_STEPS", "6"))
SEED = int(os.environ.get("CASELOAD_FUZZ_SEED", "20261126"))
PERSONAS = ("counselor", "prescriber", "supervisor", "front_desk", "integration")
SCHEMA_URL = "/api/schema/?format=json"
PLACEHOLDER = "Bearer persona-token"
# The model behind each resource: a path id is drawn from its rows (or left random).
RESOURCES = {
    "alerts": "Alert",
    "appointments": "Appointment",
    "assessments": "Assessment",
    "audit-events": "AuditEvent",
    "break-glass": "BreakGlass",
    "calendar-feeds": "CalendarFeed",
    "consents": "Consent",
    "disclosures": "Disclosure",
    "drug-screens": "DrugScreen",
    "enrollments": "Enrollment",
    "follow-ups": "FollowUp",
    "integrations": "IntegrationClient",
    "medications": "MedicationRecord",
    "notes": "CaseNote",
    "patients": "Patient",
    "referrals": "Referral",
    "staff": "Staff",
    "tokens": "ApiToken",
    "webhooks": "WebhookSubscription",
}
# Body fields that name a record: a valid random UUID is sometimes swapped for a real one.
REFERENCES = {
    "patient": "patients",
    "staff": "staff",
    "counselor": "staff",
    "prescriber": "staff",
    "client_id": "integrations",
}

CONFIG = {
    "seed": SEED,
    "generation": {
        "mode": "all",  # valid and invalid data
        "max-examples": EXAMPLES,
        "deterministic": True,
        "database": "none",
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": COVERAGE},
        "fuzzing": {"enabled": True},
        "stateful": {"max-steps": STEPS},
    },
    "checks": {
        # Valid data is refused for reasons the document cannot express (a patient id that
        # exists in no program, a role that may not write): 4xx is fine there. Everything
        # else, negative data rejection included, is checked.
        "positive_data_acceptance": {"enabled": False},
    },
    "suppress-health-check": ["all"],
}

DJANGO = get_wsgi_application()


def application(environ, start_response):
    """The WSGI application, keeping the test's database connection open.

    At each request's start and end Django closes a connection that is not in autocommit: the
    test's transaction on PostgreSQL. Django's test client unhooks that for its own requests
    (and hooks it back after each, so it is unhooked here before every request, and hooked
    back when the test ends: `_connection_kept`).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    return DJANGO(environ, start_response)


schema = schemathesis.openapi.from_wsgi(
    SCHEMA_URL, DJANGO, config=schemathesis.Config.from_dict(CONFIG)
)
schema.app = application  # loading the document at collection leaves the hooks alone


class PersonaAuth:
    """The run's own credentials, so schemathesis also checks that each operation refuses the
    request without them, or with made-up ones (401).

    Cases of the coverage phase are built at collection, before any persona exists: each case
    carries a placeholder that `Persona.aiming` replaces with the calling persona's token.
    """

    def get(self, case, ctx) -> str:
        return PLACEHOLDER

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


schema.auth.auth(refresh_interval=None)(PersonaAuth)


@dataclass
class Persona:
    """Who is calling, with what token, and the ids of the records it may aim at."""

    name: str
    authorization: str
    staff: object | None
    ids: dict[str, list[str]] = field(default_factory=dict)

    @contextmanager
    def aiming(self, case, *, restore: bool = True):
        """Send this persona's token, and swap generated UUIDs for seeded ids, chosen by the
        UUID itself (so a derandomized run stays reproducible). The case is restored after:
        explicit examples are shared by the personas' runs of one operation (a stateful step's
        case is its own, and its checks read it after the call: no restore there)."""
        saved = (case.headers, case.path_parameters, case.body)
        headers = dict(case.headers or {})
        if headers.get("Authorization") == PLACEHOLDER:
            headers["Authorization"] = self.authorization
        case.headers = headers
        resource = case.operation.path.split("/")[3]
        if case.path_parameters and "id" in case.path_parameters:
            case.path_parameters = {
                **case.path_parameters,
                "id": self._pick(case.path_parameters["id"], resource),
            }
        if isinstance(case.body, dict):
            case.body = {
                name: self._pick(value, REFERENCES[name]) if name in REFERENCES else value
                for name, value in case.body.items()
            }
        try:
            yield case
        finally:
            if restore:
                case.headers, case.path_parameters, case.body = saved

    def _pick(self, value, resource: str):
        try:
            number = uuid.UUID(str(value)).int
        except ValueError:
            return value  # invalid on purpose: keep it
        choices = self.ids.get(resource, [])
        index = number % (len(choices) + 1)
        return choices[index] if index < len(choices) else value

    def renew_if_revoked(self, case, response) -> None:
        """Revoking one's own tokens is a valid request; the next one needs a new token."""
        if (
            self.staff is not None
            and case.operation.path.startswith("/api/v1/tokens/")
            and case.method == "POST"
            and response.status_code == 200
        ):
            self.authorization = "Bearer " + token_issue(staff=self.staff)[1]


def _seed(supervisor, counselor, prescriber, patient) -> None:
    """A record of every kind the API reads, all synthetic, on `counselor`'s caseload."""
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    CaseNoteFactory(actor=counselor, patient=patient)
    AssessmentFactory(actor=counselor, patient=patient)
    MedicationRecordFactory(actor=prescriber, patient=patient)
    DrugScreenFactory(actor=counselor, patient=patient)
    ReferralFactory(actor=counselor, patient=patient)
    for staff in (counselor, prescriber, supervisor):
        calendar_feed_create(staff=staff, password=PERSONA_PASSWORD)


def _ids() -> dict[str, list[str]]:
    """Every seeded record's id by resource: the persona may see some, not others (404)."""
    return {
        resource: [
            str(pk) for pk in apps.get_model("caseload", model).objects.values_list("pk", flat=True)
        ]
        for resource, model in RESOURCES.items()
    }


@pytest.fixture
def _connection_kept():
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=PERSONAS)
def persona(
    request,
    program,
    supervisor,
    counselor,
    prescriber,
    front_desk,
    patient,
    monkeypatch,
    _connection_kept,
):
    # A fuzzed webhook must never leave the machine, whatever URL it was given.
    monkeypatch.setattr("caseload.services.webhooks.post_to_target", _no_network, raising=True)
    _seed(supervisor, counselor, prescriber, patient)
    integration = integration_for(program)
    staff = {
        "counselor": counselor,
        "prescriber": prescriber,
        "supervisor": supervisor,
        "front_desk": front_desk,
    }.get(request.param)
    if staff is None:
        authorization = integration.api._credentials["HTTP_AUTHORIZATION"]
    else:
        authorization = "Bearer " + token_issue(staff=staff)[1]
    return Persona(name=request.param, authorization=authorization, staff=staff, ids=_ids())


def _no_network(*args, **kwargs):
    raise OSError("schema fuzzing sends no webhook")


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, persona):
    with persona.aiming(case):
        response = case.call_and_validate()
        if case.headers.get("Authorization") == persona.authorization:
            # The persona's own token is never refused as no credentials: a run that silently
            # tested only the 401 path would otherwise pass.
            assert response.status_code != 401, response.text
        persona.renew_if_revoked(case, response)


@functools.cache
def _state_machine():
    return schema.as_state_machine()


def test_linked_operations_answer_as_documented(persona):
    """Chains of requests along the links inferred from the document (create, then use)."""

    class Machine(_state_machine()):
        def call(self, case, **kwargs):
            with persona.aiming(case, restore=False):
                response = case.call(**kwargs)
            persona.renew_if_revoked(case, response)
            return response

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
