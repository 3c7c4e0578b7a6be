import copy
import os

import pytest
from django.urls import URLPattern

from api.v1.urls import urlpatterns


def test_the_openapi_schema_documents_every_v1_route(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    documented = set(schema["paths"])
    for route in (
        "/api/v1/patients/",
        "/api/v1/patients/{id}/history/",
        "/api/v1/patients/{id}/withdrawal-trend/",
        "/api/v1/assessments/",
        "/api/v1/referrals/{id}/declined/",
        "/api/v1/me/",
    ):
        assert route in documented
    v1_routes = [p for p in urlpatterns if isinstance(p, URLPattern)]
    # Router patterns carry a format-suffix twin; each route appears once in the schema.
    assert len([p for p in documented if p.startswith("/api/v1/")]) == len(
        {p.name for p in v1_routes}
    )


def test_the_schema_declares_bearer_tokens(client):
    schemes = client.get("/api/schema/?format=json").json()["components"]["securitySchemes"]
    assert schemes["personalToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff personal API token.",
    }


def test_the_assessment_schema_marks_computed_results_read_only(client):
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    request_fields = set(components["AssessmentRequest"]["properties"])
    assert request_fields == {"patient", "instrument", "items", "administered_at"}


def test_the_docs_page_renders(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_healthz_reports_the_database_and_broker(client, db, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.REDIS_URL else "eager")
    assert body["feed"]["lag_seconds"] == 0
    assert body["feed"]["lagging"] is False


def test_healthz_answers_503_when_the_broker_is_unreachable(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_the_served_schema_passes_openapi_spec_validator(client):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    document = client.get("/api/schema/?format=json").json()
    validate(document)  # raises on any violation of the OpenAPI 3 specification
    # The validator does catch what drf-spectacular's own check let through: a default that
    # breaks its own schema (the token name once had `minLength: 1` and `default: ''`).
    broken = copy.deepcopy(document)
    name = broken["components"]["schemas"]["NewTokenRequest"]["properties"]["name"]
    name["minLength"] = 1
    with pytest.raises(OpenAPIValidationError, match="minLength"):
        validate(broken)


def test_the_schema_generates_without_warnings_and_validates():
    from django.core.management import call_command

    # --fail-on-warn turns any drf-spectacular warning into an error; --validate checks the
    # document against the OpenAPI 3 specification.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", os.devnull)
