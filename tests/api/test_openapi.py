"""The OpenAPI document tells a client everything it needs, and what it says is true.

Every operation is described and tagged, every parameter described, every error an operation
can give listed in the one error shape; the permission matrix and the conditional-request
headers are checked against the live behaviour of every route.
"""

from __future__ import annotations

import functools
import inspect
import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from openapi_schema_validator import OAS30Validator

from api import permissions as api_permissions
from api.v1 import base, corrections, fast_output, filters, query, read, strict
from tests.api.v1.test_permission_matrix import NOT_ALLOWED, TABLE, URL_WITHOUT_ID
from tests.api.v1.test_query_parameters import (  # every route, as a persona it lets through
    ROUTES,
    _url_and_body,
    ctx,  # noqa: F401  (the matrix's fixture)
)
from tests.conftest import api_for
from tests.factories import PERSONA_PASSWORD

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
STALE = '"v999999"'


@functools.cache
def document() -> dict:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations() -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def operation_for(route: str, method: str) -> dict | None:
    """The documented operation behind a URL name and method, or None."""
    if route in URL_WITHOUT_ID or route.endswith("-list"):
        path = reverse(route)
    else:
        marker = uuid.uuid4()
        path = reverse(route, kwargs={"pk": marker}).replace(str(marker), "{id}")
    return document()["paths"].get(path, {}).get(method.lower())


def header_parameters(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


# Described and tagged ---------------------------------------------------------------------


def test_every_operation_is_described_and_tagged():
    tags = {tag["name"]: tag.get("description") for tag in document()["tags"]}
    undescribed, untagged = [], []
    for path, method, operation in operations():
        if not (operation.get("summary") or operation.get("description", "").strip()):
            undescribed.append(f"{method.upper()} {path}")
        if not operation.get("tags") or any(t not in tags for t in operation["tags"]):
            untagged.append(f"{method.upper()} {path}")
    assert undescribed == []
    assert untagged == []
    assert len(operations()) >= 59
    assert all(tags.values()), tags  # each resource says what it is


def test_operations_are_grouped_by_resource():
    by_tag = {}
    for path, _, operation in operations():
        by_tag.setdefault(operation["tags"][0], set()).add(path.split("/")[3])
    assert by_tag["patients"] == {"patients"}  # history and trend belong to the patient
    assert by_tag["drug-screens"] == {"drug-screens"}
    assert all(len(resources) == 1 for resources in by_tag.values())


def test_every_parameter_is_described():
    undescribed = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, method, operation in operations()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert undescribed == []


def test_filters_say_what_they_keep():
    parameters = {
        p["name"]: p["description"]
        for p in document()["paths"]["/api/v1/appointments/"]["get"]["parameters"]
    }
    assert parameters["patient"] == "Only appointments of this patient (the patient's id, a UUID)."
    assert parameters["updated_since"].startswith("Starts a sync walk over appointments changed")
    assert parameters["status"].startswith("Only appointments with this status.\n\n* `booked`")


def test_no_description_is_an_internal_docstring():
    """Docstrings of the machinery every view and serializer inherits stay out of the document."""
    internal = [
        inspect.getdoc(cls).splitlines()[0]
        for module in (
            base,
            query,
            corrections,
            read,
            strict,
            fast_output,
            filters,
            api_permissions,
        )
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__ and inspect.getdoc(cls)
    ]
    text = json.dumps(document())
    assert len(internal) >= 5
    assert [line for line in internal if json.dumps(line)[1:-1] in text] == []


# Errors -----------------------------------------------------------------------------------


def expected_errors(path: str, method: str, operation: dict) -> set[str]:
    """What every operation of this kind can answer, whatever its resource."""
    expected = {"400", "401", "406"}
    if "{id}" in path or operation["operationId"].endswith("_list"):
        expected.add("404")
    if method in ("post", "put", "patch"):
        expected |= {"403", "413", "415"}
    if "If-Match" in header_parameters(operation):
        expected |= {"409", "412"}
    return expected


def test_every_operation_lists_its_errors_in_the_error_shape():
    missing, not_error_shaped = {}, []
    for path, method, operation in operations():
        if not path.startswith("/api/"):
            continue  # another interface (FHIR) answers errors in its own shape
        responses = operation["responses"]
        lacking = expected_errors(path, method, operation) - set(responses)
        if lacking:
            missing[f"{method.upper()} {path}"] = sorted(lacking)
        for status, response in responses.items():
            if status >= "400" and (
                response.get("content") != ERROR or not response["description"]
            ):
                not_error_shaped.append(f"{method.upper()} {path} {status}")
    assert missing == {}
    assert not_error_shaped == []


def test_the_error_component_is_the_shape_every_error_has(as_user, counselor, patient):
    validator = OAS30Validator(
        {"$ref": "#/components/schemas/Error", "components": document()["components"]}
    )
    api = as_user(counselor)
    answers = [
        api.get("/api/v1/notes/", {"page_size": "0", "zz": "1"}),  # 400, two fields
        api_for(None).get("/api/v1/notes/"),  # 401
        as_user(counselor).post("/api/v1/medications/", {}, format="json"),  # 403
        api.get(f"/api/v1/notes/{uuid.uuid4()}/"),  # 404
        api.get("/api/v1/notes/", HTTP_ACCEPT="text/html"),  # 406
    ]
    assert [a.status_code for a in answers] == [400, 401, 403, 404, 406]
    for answer in answers:
        validator.validate(answer.json())
    assert len(answers[0].json()["errors"]) == 2


def test_the_token_endpoint_documents_its_lockout():
    responses = document()["paths"]["/api/v1/tokens/"]["post"]["responses"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "invalid_password" in responses["403"]["description"]


def test_a_token_name_may_be_left_empty_as_its_documented_default_is(as_user, counselor):
    schema = document()["components"]["schemas"]["NewTokenRequest"]["properties"]["name"]
    assert schema["default"] == ""
    response = as_user(counselor).post(
        "/api/v1/tokens/", {"password": PERSONA_PASSWORD, "name": ""}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == ""


def test_the_schema_and_the_permission_matrix_agree():
    """A method the matrix allows is documented, with every error status the matrix shows."""
    wrong = []
    for (route, method), row in TABLE.items():
        operation = operation_for(route, method)
        if row == NOT_ALLOWED:
            if operation is not None:
                wrong.append(f"{route} {method}: documented but answers 405")
            continue
        if operation is None:
            wrong.append(f"{route} {method}: not documented")
            continue
        observed = {str(status) for status in row if status >= 400}
        undocumented = observed - set(operation["responses"])
        if undocumented:
            wrong.append(f"{route} {method}: {sorted(undocumented)} not documented")
    assert wrong == []


# Conditional requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "method", "persona"), ROUTES, ids=[f"{r}:{m}" for r, m, _ in ROUTES]
)
def test_conditional_headers_are_documented_exactly_where_they_work(
    ctx,  # noqa: F811  (the matrix's fixture)
    route,
    method,
    persona,
):
    operation = operation_for(route, method)
    headers = header_parameters(operation)
    url, body = _url_and_body(route, method, ctx)
    client = api_for(getattr(ctx, persona))
    send = getattr(client, method.lower())
    if method in ("POST", "PUT", "PATCH"):
        response = send(url, body, format="json", HTTP_IF_MATCH=STALE)
        if "If-Match" in headers:
            assert response.status_code == 412
            assert response.json()["code"] == "stale_etag"
        else:  # the header is not read here, so a stale one changes nothing
            assert response.status_code != 412
        return
    response = send(url)
    success = operation["responses"].get(str(response.status_code), {})
    assert ("ETag" in response) == ("ETag" in success.get("headers", {}))
    if "If-None-Match" in headers:
        again = send(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
        assert again["ETag"] == response["ETag"]
    else:
        assert send(url, HTTP_IF_NONE_MATCH="*").status_code == response.status_code


def test_writes_that_answer_the_record_carry_its_etag(as_user, counselor, patient):
    documented = document()["paths"]["/api/v1/notes/"]["post"]["responses"]["201"]
    assert "ETag" in documented["headers"]
    response = as_user(counselor).post(
        "/api/v1/notes/",
        {"patient": str(patient.pk), "written_at": "2026-01-05T10:00:00Z", "body": "Check-in."},
        format="json",
    )
    assert response.status_code == 201
    assert response["ETag"] == f'"v{response.json()["version"]}"'


def test_answers_list_every_status_a_record_can_hold_and_requests_only_those_accepted():
    schemas = document()["components"]["schemas"]

    def status_enum(component: str) -> list[str]:
        status = schemas[component]["properties"]["status"]
        ref = status["$ref"] if "$ref" in status else status["allOf"][0]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]["enum"]

    assert status_enum("Appointment") == ["booked", "arrived", "fulfilled", "cancelled", "noshow"]
    assert status_enum("AppointmentRequest") == ["booked"]
    assert status_enum("Enrollment") == ["intake", "active", "discharged"]
    assert status_enum("EnrollmentRequest") == ["intake", "active"]
    assert "entered_in_error" in status_enum("Medication")
    assert "entered_in_error" not in status_enum("MedicationRequest")


# drf-spectacular hooks api/schema.py extends. They are the library's private methods: each is
# pinned here by its signature and by what our extension puts in the document, so an upgrade
# that renames or reshapes one fails this test instead of silently dropping the extension.
SPECTACULAR_HOOKS = {
    "_get_parameters": ["self"],
    "_get_filter_parameters": ["self"],
    "_get_response_bodies": ["self", "direction"],
    "_resolve_path_parameters": ["self", "variables"],
    "_map_serializer_field": ["self", "field", "direction", "bypass_extensions"],
    "_insert_field_validators": ["self", "field", "schema"],
    "_map_basic_serializer": ["self", "serializer", "direction"],
}


def test_the_private_spectacular_hooks_we_extend_keep_their_shape():
    import inspect

    from drf_spectacular.openapi import AutoSchema as Stock

    from api.schema import AutoSchema

    for name, parameters in SPECTACULAR_HOOKS.items():
        assert name in vars(AutoSchema), f"api/schema.py no longer extends {name}: unpin it"
        assert list(inspect.signature(getattr(Stock, name)).parameters) == parameters, name
    extended = {name for name in vars(AutoSchema) if name.startswith("_") and hasattr(Stock, name)}
    assert extended <= set(SPECTACULAR_HOOKS) | {"__module__", "__doc__"}


def test_what_each_extended_hook_adds_is_in_the_document():
    patient = document()["paths"]["/api/v1/patients/{id}/"]
    put, get = patient["put"], patient["get"]
    assert "If-Match" in header_parameters(put)  # _get_parameters
    assert "If-None-Match" in header_parameters(get)
    assert "304" in get["responses"] and "ETag" in get["responses"]["200"]["headers"]  # bodies
    (id_parameter,) = [p for p in get["parameters"] if p["name"] == "id"]
    assert id_parameter["description"] == "The patient's id (a UUID)."  # path parameters
    notes = document()["paths"]["/api/v1/notes/"]["get"]
    (patient_filter,) = [p for p in notes["parameters"] if p["name"] == "patient"]
    assert patient_filter["description"].startswith("Only")  # filter parameters
    schemas = document()["components"]["schemas"]
    assert schemas["Patient"].get("description")  # basic serializer: the model's doc
    email = schemas["Patient"]["properties"]["email"]
    assert "pattern" in email and "format" not in email  # field validators
