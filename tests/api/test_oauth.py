"""Integration clients get tokens by OAuth2 client credentials; supervisors manage them."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from caseload.models import AuditEvent, IntegrationClient
from tests.conftest import integration_for, oauth_token, token_request

APPOINTMENTS = "/api/v1/appointments/"


def bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_create_integration_prints_the_client_id_and_secret_last(program):
    out = StringIO()
    call_command(
        "create_integration",
        "reminders",
        "--program",
        program.code,
        "--scopes",
        "appointments:read patients:read",
        "--basis",
        "consent",
        stdout=out,
    )
    printed = json.loads(out.getvalue().strip().split("\n")[-1])
    assert set(printed) == {"client_id", "client_secret"}
    client = IntegrationClient.objects.get(application__client_id=printed["client_id"])
    assert (client.name, client.program, client.basis) == ("reminders", program, "consent")
    assert client.scopes == ["appointments:read", "patients:read"]
    # Only a hash of the secret is kept.
    assert printed["client_secret"] not in client.application.client_secret
    token = oauth_token(printed["client_id"], printed["client_secret"])
    assert token["scope"].split() == ["appointments:read", "patients:read"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "appointments:write"], "scopes:"),
        (["--scopes", ""], "scopes:"),
        (["--program", "nowhere"], "program:"),
    ],
)
def test_create_integration_refuses_bad_input_naming_the_field(program, args, message):
    base = {"--program": program.code, "--scopes": "appointments:read"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]
    with pytest.raises(CommandError, match=message):
        call_command("create_integration", "x", *flat, stdout=StringIO())
    assert not IntegrationClient.objects.exists()


def test_a_token_is_a_bearer_token_of_at_most_an_hour_with_the_scopes_asked(program):
    integration = integration_for(program)
    client_id = integration.record.application.client_id
    token = oauth_token(client_id, integration.secret, scope="appointments:read")
    assert token["token_type"] == "Bearer"
    assert 0 < token["expires_in"] <= 3600
    assert token["scope"] == "appointments:read"
    assert "refresh_token" not in token
    assert bearer(token["access_token"]).get(APPOINTMENTS).status_code == 200
    assert bearer(token["access_token"]).get("/api/v1/patients/").status_code == 403


def test_the_secret_may_be_sent_in_the_form_instead_of_basic(program):
    integration = integration_for(program)
    response = token_request(
        {
            "grant_type": "client_credentials",
            "client_id": integration.record.application.client_id,
            "client_secret": integration.secret,
            "scope": "patients:read",
        }
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "patients:read"


def test_a_scope_the_client_was_not_given_is_400_invalid_scope(program):
    integration = integration_for(program, scopes=["appointments:read"])
    response = token_request(
        {"grant_type": "client_credentials", "scope": "appointments:read patients:read"},
        basic=(integration.record.application.client_id, integration.secret),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_scope"  # RFC 6749
    assert body["code"] == "invalid_scope"  # and Caseload's error shape
    assert body["errors"][0]["field"] == "scope"
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("scope", ["appointments:write", "read", "admin"])
def test_a_scope_that_does_not_exist_is_400_invalid_scope(program, scope):
    integration = integration_for(program)
    response = token_request(
        {"grant_type": "client_credentials", "scope": scope},
        basic=(integration.record.application.client_id, integration.secret),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


def test_a_wrong_secret_is_401_invalid_client(program):
    integration = integration_for(program)
    response = token_request(
        {"grant_type": "client_credentials"},
        basic=(integration.record.application.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


def refused_sign_ins(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="login_failed", outcome="denied", **filters))


def test_a_wrong_secret_is_audited_against_the_client_without_the_secret(as_user, supervisor):
    integration = integration_for(supervisor.program)
    token_request(
        {"grant_type": "client_credentials"},
        basic=(integration.record.application.client_id, "not-the-secret"),
    )
    (event,) = refused_sign_ins(client=integration.record.pk)
    assert (event.program_id, event.status_code, event.detail["error"]) == (
        supervisor.program_id,
        401,
        "invalid_client",
    )
    assert "not-the-secret" not in str(event.detail)
    log = as_user(supervisor).get(
        "/api/v1/audit-events/", {"client": str(integration.record.pk), "action": "login_failed"}
    )
    assert [e["resource_id"] for e in log.json()["results"]] == [str(integration.record.pk)]


def test_a_scope_not_given_is_audited(program):
    integration = integration_for(program, scopes=["appointments:read"])
    token_request(
        {"grant_type": "client_credentials", "scope": "patients:read"},
        basic=(integration.record.application.client_id, integration.secret),
    )
    (event,) = refused_sign_ins(client=integration.record.pk)
    assert event.detail["error"] == "invalid_scope"


def test_an_unknown_client_is_audited_with_the_id_it_claimed(db):
    token_request({"grant_type": "client_credentials"}, basic=("made-up-client", "x"))
    (event,) = refused_sign_ins(resource_type="integrationclient")
    assert (event.client, event.program_id, event.detail["client_id"]) == (
        None,
        None,
        "made-up-client",
    )


def test_a_junk_bearer_and_a_disabled_clients_token_are_audited(as_user, supervisor, patient):
    bearer("junk-bearer-token").get(APPOINTMENTS)
    (junk,) = refused_sign_ins(resource_type="accesstoken")
    assert (junk.client, junk.detail) == (None, {"via": "oauth", "reason": "invalid_token"})
    assert "junk-bearer-token" not in str(junk.detail)

    integration = integration_for(supervisor.program)
    IntegrationClient.objects.filter(pk=integration.record.pk).update(disabled_at=timezone.now())
    assert integration.get(APPOINTMENTS).status_code == 401
    (disabled,) = refused_sign_ins(client=integration.record.pk)
    assert (disabled.program_id, disabled.detail["reason"]) == (
        supervisor.program_id,
        "client_disabled",
    )


def test_another_grant_type_is_refused(program):
    integration = integration_for(program)
    response = token_request(
        {"grant_type": "password", "username": "x", "password": "y"},
        basic=(integration.record.application.client_id, integration.secret),
    )
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()
    assert response.json()["code"] == response.json()["error"]


def test_an_unknown_token_is_401_invalid_token(db):
    response = bearer("no-such-oauth-token").get(APPOINTMENTS)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


# Supervisors manage their program's clients ------------------------------------------------


def test_supervisors_list_their_programs_clients_only(as_user, supervisor, other_program_staff):
    mine = integration_for(supervisor.program, name="ehr")
    integration_for(other_program_staff.program, name="theirs")
    listed = as_user(supervisor).get("/api/v1/integrations/").json()["results"]
    assert [c["id"] for c in listed] == [str(mine.record.pk)]
    assert listed[0]["client_id"] == mine.record.application.client_id
    assert listed[0]["scopes"] == ["appointments:read", "patients:read"]
    assert listed[0]["basis"] == "qsoa"
    assert listed[0]["disabled"] is False
    assert "client_secret" not in listed[0]


def test_disabling_a_client_stops_its_tokens_on_the_next_request(as_user, supervisor, patient):
    integration = integration_for(supervisor.program)
    assert integration.get(APPOINTMENTS).status_code == 200
    response = as_user(supervisor).post(f"/api/v1/integrations/{integration.record.pk}/disable/")
    assert response.status_code == 200
    assert response.json()["disabled"] is True
    refused = integration.get(APPOINTMENTS)
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")
    again = token_request(
        {"grant_type": "client_credentials"},
        basic=(integration.record.application.client_id, integration.secret),
    )
    assert again.status_code == 401
    event = AuditEvent.objects.get(action="update", resource_id=str(integration.record.pk))
    assert (event.actor, event.detail["change"]) == (supervisor, "disable")


def test_a_client_disabled_behind_a_live_token_is_refused_at_once(program, patient):
    integration = integration_for(program)
    IntegrationClient.objects.filter(pk=integration.record.pk).update(disabled_at=timezone.now())
    assert integration.get(APPOINTMENTS).status_code == 401


def test_rotating_gives_a_new_secret_once_and_the_old_one_stops(as_user, supervisor, patient):
    integration = integration_for(supervisor.program)
    response = as_user(supervisor).post(f"/api/v1/integrations/{integration.record.pk}/rotate/")
    assert response.status_code == 200
    new_secret = response.json()["client_secret"]
    assert new_secret != integration.secret
    client_id = integration.record.application.client_id
    old = token_request({"grant_type": "client_credentials"}, basic=(client_id, integration.secret))
    assert old.status_code == 401
    assert integration.get(APPOINTMENTS).status_code == 401  # its tokens went with the secret
    assert (
        bearer(oauth_token(client_id, new_secret)["access_token"]).get(APPOINTMENTS).status_code
        == 200
    )
    listed = as_user(supervisor).get(f"/api/v1/integrations/{integration.record.pk}/").json()
    assert "client_secret" not in listed


def test_an_integration_is_a_principal_of_its_own_in_the_audit_log(integration_client, patient):
    assert integration_client.get(APPOINTMENTS).status_code == 200
    event = AuditEvent.objects.filter(action="list", resource_type="appointment").latest(
        "occurred_at"
    )
    assert (event.actor, event.role) == (None, "integration")
    assert event.client == integration_client.record.pk
    assert event.program_id == integration_client.record.program_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_token_minted_with_the_old_secret_outlives_a_rotation(as_user, supervisor):
    """Token requests with the old secret race the rotation; after the rotation answers, none
    of the tokens they got works."""
    from tests.concurrency import at_once

    integration = integration_for(supervisor.program)
    client_id = integration.record.application.client_id
    rotator = as_user(supervisor)
    secret, alive, issued = integration.secret, 0, 0
    for _ in range(20):
        minted = []

        def mint(secret=secret, minted=minted):
            for _ in range(3):
                answer = token_request(
                    {"grant_type": "client_credentials"}, basic=(client_id, secret)
                )
                if answer.status_code == 200:
                    minted.append(answer.json()["access_token"])
            return len(minted)

        _, rotated = at_once(
            mint,
            lambda: rotator.post(f"/api/v1/integrations/{integration.record.pk}/rotate/"),
        )
        assert rotated.status_code == 200
        issued += len(minted)
        alive += sum(bearer(token).get(APPOINTMENTS).status_code == 200 for token in minted)
        secret = rotated.json()["client_secret"]
    print(f"tokens minted while rotating: {issued}, alive after the rotation: {alive}")
    assert alive == 0, f"{alive} of {issued} tokens minted with an old secret still work"


@pytest.mark.parametrize(
    ("form", "basic", "error"),
    [
        ({"grant_type": "client_credentials", "scope": "admin"}, True, "invalid_scope"),
        ({"grant_type": "password", "username": "x", "password": "y"}, True, None),
        ({"grant_type": "client_credentials"}, False, "invalid_client"),
    ],
)
def test_every_token_error_carries_a_description(program, form, basic, error):
    integration = integration_for(program)
    credentials = (integration.record.application.client_id, integration.secret)
    response = token_request(form, basic=credentials if basic else None)
    body = response.json()
    assert response.status_code in (400, 401)
    assert body["error_description"].strip(), body
    if error is not None:
        assert body["error"] == error


def test_a_basic_client_failure_answers_a_basic_challenge(program):
    integration = integration_for(program)
    response = token_request(
        {"grant_type": "client_credentials"},
        basic=(integration.record.application.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="caseload"'
