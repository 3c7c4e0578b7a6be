from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from caseload.errors import InvalidInput
from caseload.models import ApiToken, AuditEvent
from caseload.services.tokens import token_issue
from tests.conftest import Api
from tests.factories import PERSONA_PASSWORD

URL = "/api/v1/tokens/"
REVOKE_ALL = f"{URL}revoke-all/"
ME = "/api/v1/me/"


def with_token(raw: str) -> APIClient:
    """A client carrying only this token (a persona client would send its own instead)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def new_token(api, **fields):
    return api.post(URL, {"password": PERSONA_PASSWORD, **fields})


def test_a_new_token_is_shown_once_and_works(as_user, counselor):
    api = as_user(counselor)
    created = new_token(api, name="laptop", expires_in_days=7)
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("cl_")
    listed = api.get(URL).json()["results"]
    assert all("token" not in row for row in listed)
    assert {row["name"] for row in listed} >= {"laptop"}
    assert with_token(raw).get(ME).json()["username"] == "counselor"
    assert AuditEvent.objects.filter(
        action="create", resource_type="apitoken", actor=counselor
    ).exists()


def test_a_revoked_token_stops_working_at_once(as_user, counselor):
    api: Api = as_user(counselor)
    created = new_token(api, name="old phone").json()
    revoked = api.post(f"{URL}{created['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = with_token(created["token"]).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_nobody_sees_or_revokes_another_persons_token(as_user, counselor, supervisor):
    own = new_token(as_user(counselor), name="mine").json()
    assert as_user(supervisor).get(f"{URL}{own['id']}/").status_code == 404
    assert as_user(supervisor).post(f"{URL}{own['id']}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=own["id"]).revoked_at is None


# Re-authentication ------------------------------------------------------------------------


def test_a_token_cannot_mint_a_token_without_the_password(as_user, counselor):
    response = as_user(counselor).post(URL, {"name": "child", "expires_in_days": 30})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("password", "required")
    ]
    assert ApiToken.objects.filter(name="child").count() == 0


def test_a_wrong_password_answers_403_naming_it_and_creates_nothing(as_user, counselor):
    response = as_user(counselor).post(URL, {"name": "child", "password": "not-my-password"})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "invalid_password"
    assert [e["field"] for e in body["errors"]] == ["password"]
    assert not ApiToken.objects.filter(name="child").exists()
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.detail == {
        "username": "counselor",
        "via": URL,
        "reason": "invalid_credentials",
        "source": "127.0.0.1",
    }


def test_wrong_passwords_at_token_creation_lock_the_username_everywhere(as_user, counselor):
    api = as_user(counselor)
    statuses = [api.post(URL, {"password": f"guess-{n}"}).status_code for n in range(6)]
    assert statuses == [403] * 5 + [429]
    right = new_token(api)
    assert right.status_code == 429
    assert right.json()["code"] == "locked_out"
    assert int(right["Retry-After"]) > 0
    login = Client().post(
        "/api/auth/login/", {"username": "counselor", "password": PERSONA_PASSWORD}
    )
    assert login.status_code == 429
    assert AuditEvent.objects.filter(action="lockout", resource_id=str(counselor.pk)).count() == 1


def test_a_browser_session_needs_the_password_too(counselor):
    client = APIClient()
    assert client.login(username="counselor", password=PERSONA_PASSWORD)
    assert client.post(URL, {"name": "from the browser"}).status_code == 400
    assert client.post(URL, {"password": PERSONA_PASSWORD}).status_code == 201


# Lifetime ---------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [91, 365, 3650, 10**30, 2**63, 10**400])
def test_no_token_outlives_the_configured_lifetime(as_user, counselor, days):
    response = new_token(as_user(counselor), expires_in_days=days)
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("expires_in_days", "max_value")
    ]


@override_settings(CASELOAD_TOKEN_TTL_DAYS=7)
def test_the_lifetime_cap_follows_the_setting(as_user, counselor):
    api = as_user(counselor)
    assert new_token(api, expires_in_days=8).status_code == 400
    created = new_token(api, expires_in_days=7)
    assert created.status_code == 201
    token = ApiToken.objects.get(pk=created.json()["id"])
    assert token.expires_at - token.created_at <= timedelta(days=7)
    default = ApiToken.objects.get(pk=new_token(api).json()["id"])
    assert default.expires_at - default.created_at <= timedelta(days=7, seconds=1)


def test_the_service_refuses_a_lifetime_over_the_setting_on_every_path(counselor):
    with pytest.raises(InvalidInput) as caught:
        token_issue(staff=counselor, ttl=timedelta(days=90, seconds=1))
    assert caught.value.field == "expires_in_days"
    assert not ApiToken.objects.filter(staff=counselor).exists()


def test_lowering_the_lifetime_retires_older_tokens_at_once(counselor):
    token, raw = token_issue(staff=counselor)  # 90 days
    ApiToken.objects.filter(pk=token.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert with_token(raw).get(ME).status_code == 200
    with override_settings(CASELOAD_TOKEN_TTL_DAYS=30):
        response = with_token(raw).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


# Revoking every token ---------------------------------------------------------------------


def test_revoke_all_ends_every_token_of_the_caller_including_this_one(
    as_user, counselor, supervisor
):
    api = as_user(counselor)
    others = [new_token(api, name=f"device {n}").json()["token"] for n in range(2)]
    _, bystander = token_issue(staff=supervisor)
    response = api.post(REVOKE_ALL)
    assert response.status_code == 200
    assert response.json() == {"revoked": 3}  # two devices and the token that asked
    for raw in others:
        assert with_token(raw).get(ME).status_code == 401
    assert api.get(ME).status_code == 401
    assert with_token(bystander).get(ME).status_code == 200
    event = AuditEvent.objects.get(action="revoke", resource_type="staff")
    assert event.actor == counselor
    assert event.resource_id == str(counselor.pk)
    assert event.detail["count"] == 3


def test_revoke_tokens_command_ends_a_lost_laptops_tokens(counselor, supervisor):
    raws = [token_issue(staff=counselor)[1] for _ in range(2)]
    _, bystander = token_issue(staff=supervisor)
    out = StringIO()
    call_command("revoke_tokens", "counselor", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == '{"username": "counselor", "revoked": 2}'
    assert all(with_token(raw).get(ME).status_code == 401 for raw in raws)
    assert with_token(bystander).get(ME).status_code == 200
    assert AuditEvent.objects.get(action="revoke", resource_type="staff").actor is None


@pytest.mark.django_db
def test_revoke_tokens_command_names_an_unknown_username():
    with pytest.raises(CommandError, match=r"^username: "):
        call_command("revoke_tokens", "nobody", stdout=StringIO())
