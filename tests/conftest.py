"""Named personas: every endpoint test reads like a sentence about one of them."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from django.core.management.commands import flush
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from caseload.models import Staff
from caseload.permissions import OPERATOR
from caseload.services.tokens import token_issue
from tests.factories import (
    EnrollmentFactory,
    PatientFactory,
    ProgramFactory,
    StaffFactory,
)


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests fail loudly in CI when the suite is not on PostgreSQL."""
    for item in items:
        if item.get_closest_marker("postgres") is None:
            continue
        item.fixturenames.append("_requires_postgres")


@pytest.fixture(autouse=True, scope="session")
def _flush_lifts_the_append_only_triggers():
    """The audit tables refuse TRUNCATE on PostgreSQL. Emptying the database between
    transactional tests is the one place the suite lifts that, as a database owner would for
    maintenance: triggers do not fire while `session_replication_role` is `replica`."""
    original = flush.Command.handle

    def handle(self, *args, **options):
        database = connections[options.get("database") or "default"]
        if database.vendor != "postgresql":
            return original(self, *args, **options)
        # SET LOCAL, in the transaction the flush runs in: a session setting would outlive it,
        # and behind a transaction-pooling PgBouncer would land on whichever server
        # connection ran it, for another client to inherit.
        with transaction.atomic(using=database.alias):
            with database.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            return original(self, *args, **options)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture
def _requires_postgres(db):
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI") or os.environ.get("CASELOAD_REQUIRE_POSTGRES"):
        pytest.fail("This test needs PostgreSQL and CI must run it there (set DATABASE_URL).")
    pytest.skip("needs PostgreSQL (set DATABASE_URL); CI runs it there")


@dataclass
class Api:
    """An HTTP client authenticated as one persona with a real personal token."""

    client: APIClient
    user: Staff | None

    def __getattr__(self, name):
        return getattr(self.client, name)


def api_for(user: Staff | None) -> Api:
    client = APIClient()
    if user is not None:
        _, raw = token_issue(staff=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return Api(client=client, user=user)


@pytest.fixture
def program(db):
    return ProgramFactory(code="riverside", name="Riverside (test)")


@pytest.fixture
def other_program(db):
    return ProgramFactory(code="hillside", name="Hillside (test)")


@pytest.fixture
def supervisor(program):
    return StaffFactory(username="supervisor", program=program, role="supervisor")


@pytest.fixture
def counselor(program):
    return StaffFactory(username="counselor", program=program, role="counselor")


@pytest.fixture
def other_counselor(program):
    return StaffFactory(username="other_counselor", program=program, role="counselor")


@pytest.fixture
def prescriber(program):
    return StaffFactory(username="prescriber", program=program, role="prescriber")


@pytest.fixture
def front_desk(program):
    return StaffFactory(username="front_desk", program=program, role="front_desk")


@pytest.fixture
def other_program_staff(other_program):
    """A supervisor of another program: the most a foreign user could hold."""
    return StaffFactory(username="other_program_staff", program=other_program, role="supervisor")


@pytest.fixture
def patient(supervisor, counselor, prescriber):
    """On `counselor`'s caseload, with `prescriber` assigned."""
    patient = PatientFactory(actor=supervisor, given_name="Avery", family_name="Synthetic")
    EnrollmentFactory(actor=supervisor, patient=patient, counselor=counselor, prescriber=prescriber)
    return patient


@pytest.fixture
def other_patient(supervisor, other_counselor):
    """Same program, on `other_counselor`'s caseload only."""
    patient = PatientFactory(actor=supervisor, given_name="Blake", family_name="Synthetic")
    EnrollmentFactory(actor=supervisor, patient=patient, counselor=other_counselor)
    return patient


@pytest.fixture
def foreign_patient(other_program_staff):
    other_counselor = StaffFactory(program=other_program_staff.program, role="counselor")
    patient = PatientFactory(actor=other_program_staff, given_name="Cory", family_name="Foreign")
    EnrollmentFactory(actor=other_program_staff, patient=patient, counselor=other_counselor)
    return patient


@pytest.fixture
def as_user():
    """`as_user(counselor).get(url)`: a client carrying that persona's token."""
    return api_for


@pytest.fixture
def anonymous():
    return api_for(None)


BOTH_SCOPES = ["appointments:read", "patients:read"]


def token_request(data: dict, *, basic: tuple[str, str] | None = None):
    """POST /o/token/ as a form, the client authenticating by HTTP Basic when `basic` is given."""
    import base64
    from urllib.parse import urlencode

    headers = {}
    if basic is not None:
        pair = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        headers["HTTP_AUTHORIZATION"] = f"Basic {pair}"
    return APIClient().post(
        "/o/token/",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def oauth_token(client_id: str, secret: str, scope: str | None = None) -> dict:
    """An access token from POST /o/token/ (client credentials, HTTP Basic)."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = token_request(data, basic=(client_id, secret))
    assert response.status_code == 200, response.content
    return response.json()


@dataclass
class Integration:
    """An integration client with its secret, and an HTTP client carrying one of its tokens."""

    record: object
    secret: str
    api: APIClient

    def __getattr__(self, name):
        return getattr(self.api, name)


def integration_for(program, *, name="scheduler", scopes=None, basis="qsoa") -> Integration:
    from caseload.services.integrations import integration_create

    record, secret = integration_create(
        name=name, program=program, scopes=scopes or BOTH_SCOPES, basis=basis, actor=OPERATOR
    )
    token = oauth_token(record.application.client_id, secret)["access_token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return Integration(record=record, secret=secret, api=api)


@pytest.fixture
def integration_client(program):
    """A scheduling system of `program` under a QSOA, holding both read scopes."""
    return integration_for(program)


def webhook_client(program, *, basis="qsoa", scopes=("appointments:read",), name=None):
    """An integration client of `program` that webhook subscriptions deliver to (no token)."""
    from caseload.services.integrations import integration_create

    record, _ = integration_create(
        name=name or f"hooks-{basis}-{uuid.uuid4().hex[:8]}",
        program=program,
        scopes=list(scopes),
        basis=basis,
        actor=OPERATOR,
    )
    return record
