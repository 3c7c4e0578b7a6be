"""Every answer under /api/ and /o/ is JSON in the one error shape, whatever failed.

(/fhir/ answers errors as FHIR OperationOutcome: tests/api/fhir/.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from rest_framework.test import APIClient

from caseload.models import CaseNote
from tests.domain_reference import cows_items
from tests.factories import CaseNoteFactory

API_REFERENCE = Path(django_settings.BASE_DIR) / "docs" / "api.md"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"code", "detail", "errors"}
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        "/api/v2/patients/",
        "/api/",
        "/api",
        "/api/v1/patients/not-a-uuid/",
        "/api/v1/patients/00000000-0000-0000-0000-000000000000/bogus/",
        "/o/nothing/",
    ],
)
def test_a_path_that_does_not_resolve_is_a_json_404(as_user, counselor, path):
    assert_error(as_user(counselor).get(path), 404, "not_found")


def test_a_double_slash_is_a_json_404_not_an_html_page(as_user, counselor, patient):
    note = CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).patch("/api/v1/notes//", {"body": "x"}, format="json")
    assert_error(response, 404, "not_found")
    assert CaseNote.objects.get(pk=note.pk).body == note.body


def test_a_missing_trailing_slash_is_a_404_naming_the_right_path_not_a_redirect(
    as_user, counselor, patient
):
    body = {"patient": str(patient.pk), "written_at": "2026-01-01T00:00:00Z", "body": "x"}
    response = as_user(counselor).post("/api/v1/notes", body, format="json")
    error = assert_error(response, 404, "not_found")
    assert error["detail"] == "Not found. API paths end with a slash: /api/v1/notes/"
    assert not CaseNote.objects.exists()


def test_outside_the_api_django_still_redirects_to_add_the_slash(client, db):
    response = client.get("/admin")
    assert response.status_code == 301
    assert response["Location"] == "/admin/"


def test_a_404_is_json_even_when_the_client_is_unauthenticated(anonymous, db):
    assert_error(anonymous.get("/api/v1/nothing/"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(as_user, counselor, patient):
    note = CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).delete(f"/api/v1/notes/{note.pk}/")
    assert_error(response, 405, "method_not_allowed")


@pytest.fixture
def crashing_me(monkeypatch):
    def crash(staff):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.v1.me.me_body", crash)


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_is_a_json_500_without_a_traceback(
    as_user, counselor, crashing_me, settings, debug
):
    settings.DEBUG = debug
    api = as_user(counselor)
    api.client.raise_request_exception = False
    response = api.get("/api/v1/me/")
    body = assert_error(response, 500, "server_error")
    assert body == {"code": "server_error", "detail": "A server error occurred.", "errors": []}
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_a_csrf_refusal_of_the_login_form_is_json(db):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/login/", {"username": "a", "password": "b"})
    assert_error(response, 403, "permission_denied")


def test_outside_the_api_django_pages_stay_html(client, db):
    response = client.get("/admin/nothing-here/")
    assert response.status_code in {302, 404}
    assert not response["Content-Type"].startswith("application/json")


# The SVG chart's errors are JSON ------------------------------------------------------------


def trend(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/withdrawal-trend/"


@pytest.mark.parametrize(
    "ask", [{"data": {"format": "svg"}}, {"HTTP_ACCEPT": "image/svg+xml"}], ids=["format", "accept"]
)
def test_an_svg_request_that_fails_answers_json(as_user, front_desk, other_counselor, patient, ask):
    forbidden = as_user(front_desk).get(trend(patient), **ask)
    assert_error(forbidden, 403, "permission_denied")
    hidden = as_user(other_counselor).get(trend(patient), **ask)
    assert_error(hidden, 404, "not_found")


def test_an_svg_request_without_credentials_answers_json(anonymous, patient):
    assert_error(
        anonymous.get(trend(patient), HTTP_ACCEPT="image/svg+xml"), 401, "not_authenticated"
    )


def test_an_svg_request_with_a_bad_format_answers_json(as_user, counselor, patient):
    response = as_user(counselor).get(trend(patient), {"format": "png"})
    assert_error(response, 400, "validation_error")


def test_a_successful_svg_request_is_still_svg(as_user, counselor, patient):
    response = as_user(counselor).get(trend(patient), HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")


def test_an_unacceptable_accept_header_is_a_json_406(as_user, counselor, patient):
    response = as_user(counselor).get("/api/v1/patients/", HTTP_ACCEPT="text/html")
    assert_error(response, 406, "not_acceptable")


# The API reference quotes the server word for word --------------------------------------------


def documented_error_example() -> dict:
    text = API_REFERENCE.read_text(encoding="utf-8")
    errors_section = text[text.index("**Errors**") :]
    block = re.search(r"```json\n(.*?)```", errors_section, re.DOTALL)
    assert block is not None
    return json.loads(block.group(1))


def test_the_api_reference_error_example_is_what_the_server_answers(as_user, counselor, patient):
    documented = documented_error_example()
    body = {
        "patient": str(patient.pk),
        "instrument": "cows",
        "administered_at": "2026-01-25T08:30:00-05:00",
        "items": cows_items(0) | {"restlessness": 2},
    }
    response = as_user(counselor).post("/api/v1/assessments/", body, format="json")
    assert response.status_code == 400
    assert response.json() == documented


def test_the_api_reference_names_the_server_messages_it_quotes(as_user, counselor, patient):
    text = " ".join(API_REFERENCE.read_text(encoding="utf-8").split())  # quotes may wrap
    api = as_user(counselor)
    answers = [
        api.get("/api/v1/patients/?zz=1"),
        api.get("/api/v1/patients/?page=1&page=2"),
        api.get("/api/v1/patients/?page_size=0"),
        api.post("/api/v1/notes/", {"zz": 1, "id": "x", "body": 1, "patient": 5}, format="json"),
        api.post("/api/v1/notes", {}, format="json"),
        api.get("/api/v1/patients/", {"format": "svg"}),
    ]
    quoted = {
        (error["code"], error["detail"]) for answer in answers for error in answer.json()["errors"]
    } | {(answer.json()["code"], answer.json()["detail"]) for answer in answers}
    quoted -= {("required", "This field is required.")}  # the written_at the note left out
    for code, detail in quoted:
        assert f"`{code}`" in text, code
        assert f'"{detail}"' in text, detail


class _Cancelled(Exception):
    """What the driver raises for a statement PostgreSQL cancelled at statement_timeout."""

    sqlstate = "57014"


@pytest.fixture
def database_fails(db):
    """`database_fails(error)`: from now on every query raises `error`, as Django raises it when
    the server is away (OperationalError) or cancelled the statement (its cause says so).
    Queries work again before the test database is cleaned up."""
    original = CursorWrapper.execute

    def start(error: Exception) -> None:
        def refuse(self, *args, **kwargs):
            raise error

        CursorWrapper.execute = refuse

    yield start
    CursorWrapper.execute = original


def _cancelled() -> OperationalError:
    error = OperationalError("canceling statement due to statement timeout")
    error.__cause__ = _Cancelled()
    return error


@pytest.mark.parametrize(
    ("error", "code", "retry_after"),
    [
        (OperationalError("connection refused"), "database_unavailable", "5"),
        (InterfaceError("connection already closed"), "database_unavailable", "5"),
        (_cancelled(), "database_timeout", "1"),
    ],
)
def test_a_database_fault_in_a_view_is_a_json_503_with_retry_after(
    as_user, counselor, database_fails, error, code, retry_after
):
    api = as_user(counselor)
    api.client.raise_request_exception = False
    database_fails(error)
    response = api.get("/api/v1/me/")
    assert_error(response, 503, code)
    assert response["Retry-After"] == retry_after


def test_a_database_fault_outside_drf_is_a_json_503_too(client, supervisor, database_fails):
    client.force_login(supervisor)
    client.raise_request_exception = False
    database_fails(OperationalError("connection refused"))
    response = client.get("/api/auth/login/")  # the session is loaded from the database
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"


def test_healthz_names_the_database_when_it_is_away(client, db, database_fails):
    database_fails(OperationalError("connection refused"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"
