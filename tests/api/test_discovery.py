"""What a newcomer finds: a landing page at `/`, SMART discovery for FHIR backend services, and a
browser sign-in that lands somewhere."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PERSONA_PASSWORD


def test_the_landing_page_links_the_docs_schema_and_health(anonymous):
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for link in ("/api/docs/", "/api/schema/", "/fhir/metadata", "/healthz"):
        assert f'href="{link}"' in page
    assert "<script" not in page


@pytest.mark.parametrize(
    "path", ["/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"]
)
def test_smart_discovery_names_the_token_endpoint_grant_and_scopes(db, path, integration_client):
    from urllib.parse import urlparse

    from tests.conftest import token_request

    body = Client().get(path).json()
    assert body["token_endpoint"] == "http://testserver/o/token/"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert set(body["scopes_supported"]) == {"appointments:read", "patients:read"}
    assert "client_secret_basic" in body["token_endpoint_auth_methods_supported"]
    # The endpoint it names grants a token as it says (client_secret_basic, client_credentials).
    assert urlparse(body["token_endpoint"]).path == "/o/token/"
    record = integration_client.record
    granted = token_request(
        {"grant_type": "client_credentials"},
        basic=(record.application.client_id, integration_client.secret),
    )
    assert granted.status_code == 200 and granted.json()["token_type"] == "Bearer"


def test_a_browser_sign_in_without_next_lands_on_the_landing_page(counselor):
    client = Client()
    response = client.post(
        "/api/auth/login/", {"username": counselor.username, "password": PERSONA_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(response["Location"]).status_code == 200


def test_discovery_answers_only_reads(db):
    assert Client().post("/.well-known/smart-configuration").status_code == 405
    assert Client().post("/").status_code == 405
