"""What schema fuzzing (tests/api/test_schema_fuzz.py) found, pinned as plain requests.

Each test is one finding: a request the document says is invalid that was answered as if it
were valid, or an answer the document does not describe.
"""

from __future__ import annotations

import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from rest_framework.test import APIClient

from tests.api.test_openapi import document
from tests.factories import AppointmentFactory, PatientFactory


def _fields(response) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.json()["errors"]}


@pytest.mark.parametrize("method", ["trace", "delete"])
def test_a_method_a_route_does_not_serve_is_405_whatever_the_query_string(
    as_user, supervisor, method
):
    response = getattr(as_user(supervisor).client, method)("/api/v1/alerts/?page=0&page_size=0")
    assert response.status_code == 405, response.content
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/audit-events/?patient=", "patient"),  # a UUID filter
        ("/api/v1/appointments/?status=", "status"),  # a choice filter
        ("/api/v1/appointments/?start_after=", "start_after"),  # a date-time filter
        ("/api/v1/break-glass/?reviewed=", "reviewed"),  # a boolean filter
    ],
)
def test_an_empty_filter_is_refused_not_ignored(as_user, supervisor, url, name):
    response = as_user(supervisor).get(url)
    assert response.status_code == 400, response.content
    assert _fields(response) == {name: "blank"}


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/break-glass/?reviewed=AAA", "reviewed"),
        ("/api/v1/staff/?is_active=1", "is_active"),
        ("/api/v1/staff/?is_active=2", "is_active"),  # django-filter's own "true"
    ],
)
def test_a_boolean_filter_is_true_or_false(as_user, supervisor, url, name):
    response = as_user(supervisor).get(url)
    assert response.status_code == 400, response.content
    assert _fields(response) == {name: "invalid"}
    assert as_user(supervisor).get(url.split("=")[0] + "=false").status_code == 200


def _validate(component: str, body: dict) -> None:
    OAS30Validator(
        {"$ref": f"#/components/schemas/{component}", "components": document()["components"]},
        format_checker=FormatChecker(),
    ).validate(body)


@pytest.mark.parametrize("path", ["/api/v1/staff/0.5/", "/api/v1/notes/0.xml/"])
def test_a_format_suffix_the_view_does_not_serve_is_404_even_with_a_bad_token(
    as_user, supervisor, path
):
    """The suffix is refused before authentication runs; auditing that refusal must not then
    trip over the token (it answered 500)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer cl_not-a-token")
    response = client.get(path)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_a_patient_without_an_email_is_answered_as_the_document_says(as_user, supervisor):
    patient = PatientFactory(actor=supervisor, email="")
    response = as_user(supervisor).get(f"/api/v1/patients/{patient.pk}/")
    assert response.status_code == 200
    assert response.json()["email"] == ""
    _validate("Patient", response.json())


def test_an_integration_clients_appointments_are_answered_as_the_document_says(
    integration_client, supervisor, counselor, patient
):
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    response = integration_client.get("/api/v1/appointments/")
    assert response.status_code == 200
    (appointment,) = response.json()["results"]
    assert "cancellation_reason" not in appointment  # kept from integration clients
    _validate("Appointment", appointment)


def test_a_malformed_email_is_still_refused(as_user, supervisor, patient):
    response = as_user(supervisor).patch(
        f"/api/v1/patients/{patient.pk}/", {"email": "not an email"}, format="json"
    )
    assert response.status_code == 400
    assert _fields(response) == {"email": "invalid"}
