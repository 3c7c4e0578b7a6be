"""Who may call the API: personal Bearer tokens, browser sessions, and what fails with 401."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from caseload.models import ApiToken, AuditEvent, Staff
from caseload.services.programs import staff_create
from caseload.services.tokens import token_issue, token_revoke

ME = "/api/v1/me/"
PATIENTS = "/api/v1/patients/"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_unauthenticated(response, code: str) -> None:
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    assert body["code"] == code
    assert body["errors"] == []
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_authenticates_and_records_its_use(counselor):
    token, raw = token_issue(staff=counselor)
    response = bearer(raw).get(ME)
    assert response.status_code == 200
    assert response.json()["username"] == "counselor"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_is_stored_only_as_its_digest(counselor):
    token, raw = token_issue(staff=counselor)
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert [name for name, value in row.items() if raw in str(value)] == []
    # The audit row of the issue must not leak it either.
    issued = AuditEvent.objects.get(action="create", resource_id=str(token.pk))
    assert raw not in str(issued.detail)


def test_an_expired_token_answers_401(counselor):
    _, raw = token_issue(staff=counselor, ttl=timedelta(seconds=-1))
    assert_unauthenticated(bearer(raw).get(ME), "invalid_token")


def test_a_token_that_just_expired_stops_working(counselor):
    token, raw = token_issue(staff=counselor)
    assert bearer(raw).get(ME).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at)
    assert_unauthenticated(bearer(raw).get(ME), "invalid_token")


def test_a_revoked_token_answers_401_and_the_revocation_is_audited(counselor, supervisor):
    token, raw = token_issue(staff=counselor)
    assert bearer(raw).get(ME).status_code == 200
    token_revoke(token=token, actor=supervisor)
    assert_unauthenticated(bearer(raw).get(PATIENTS), "invalid_token")
    event = AuditEvent.objects.get(action="revoke", resource_id=str(token.pk))
    assert event.actor == supervisor


def test_an_unknown_personal_token_answers_401(counselor):
    token_issue(staff=counselor)
    assert_unauthenticated(bearer("cl_" + "x" * 43).get(ME), "invalid_token")


def test_a_token_with_one_character_changed_answers_401(counselor):
    _, raw = token_issue(staff=counselor)
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert_unauthenticated(bearer(tampered).get(ME), "invalid_token")


def test_no_credentials_answer_401(anonymous):
    assert_unauthenticated(anonymous.get(ME), "not_authenticated")
    assert_unauthenticated(anonymous.get(PATIENTS), "not_authenticated")


def test_a_bearer_value_that_is_neither_a_personal_nor_an_oauth2_token_answers_401(counselor):
    # Not `cl_…`, so it is read as an OAuth2 access token, and no such token exists.
    assert_unauthenticated(bearer("not-a-caseload-token").get(ME), "invalid_token")


def test_a_deactivated_staff_members_token_answers_401(counselor):
    _, raw = token_issue(staff=counselor)
    assert bearer(raw).get(ME).status_code == 200
    Staff.objects.filter(pk=counselor.pk).update(is_active=False)
    assert_unauthenticated(bearer(raw).get(ME), "invalid_token")


@pytest.fixture
def staff_with_password(program):
    return staff_create(
        username="session.user", program=program, role="counselor", password="a-long-passphrase-1"
    )


def test_a_session_from_the_login_page_authenticates_api_calls(staff_with_password):
    client = Client()
    login = client.post(
        "/api/auth/login/",
        {"username": "session.user", "password": "a-long-passphrase-1", "next": ME},
    )
    assert login.status_code == 302
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == str(staff_with_password.pk)


def test_a_logged_in_test_client_session_authenticates_api_calls(staff_with_password):
    client = Client()
    assert client.login(username="session.user", password="a-long-passphrase-1")
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["username"] == "session.user"


def test_a_wrong_password_gives_no_session(staff_with_password):
    client = Client()
    login = client.post(
        "/api/auth/login/", {"username": "session.user", "password": "wrong-passphrase"}
    )
    assert login.status_code == 200  # the form again, with its error
    assert_unauthenticated(client.get(ME), "not_authenticated")
    assert "_auth_user_id" not in client.session


def test_me_describes_the_caller(as_user, counselor):
    body = as_user(counselor).get(ME).json()
    assert body["id"] == str(counselor.pk)
    assert body["username"] == "counselor"
    assert body["role"] == "counselor"
    assert body["program"] == "riverside"
    assert "add_casenote" in body["permissions"]
    assert "view_patient" in body["permissions"]
    assert "add_enrollment" not in body["permissions"]
    assert "view_auditevent" not in body["permissions"]
    assert body["permissions"] == sorted(body["permissions"])


def test_me_shows_a_supervisor_their_wider_permissions(as_user, supervisor):
    body = as_user(supervisor).get(ME).json()
    assert body["role"] == "supervisor"
    assert {"add_enrollment", "view_auditevent", "add_staff"} <= set(body["permissions"])


def test_argon2_is_the_first_password_hasher_outside_tests():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_the_token_lookup_is_one_query_and_answers_each_request_afresh(
    counselor, supervisor, settings, django_assert_num_queries
):
    """The lookup is compiled once per process; what it answers never is kept: a token that
    outlived the lifetime cap (lowered or aged) or was revoked fails on the next request."""
    token, raw = token_issue(staff=counselor)
    client = bearer(raw)
    assert client.get(ME).status_code == 200  # stamps last_used_at (once a minute)
    with django_assert_num_queries(1):  # token, staff member and program together
        body = client.get(ME).json()
    assert body["program"] == counselor.program.code
    assert body["username"] == counselor.username
    ApiToken.objects.filter(pk=token.pk).update(created_at=token.created_at - timedelta(days=400))
    assert_unauthenticated(client.get(ME), "invalid_token")
    ApiToken.objects.filter(pk=token.pk).update(created_at=token.created_at)
    assert client.get(ME).status_code == 200
    token_revoke(token=token, actor=supervisor)
    assert_unauthenticated(client.get(ME), "invalid_token")


@pytest.mark.parametrize("role", ["supervisor", "counselor", "prescriber", "front_desk"])
def test_me_answers_what_its_serializer_writes(role, program, request):
    from rest_framework.renderers import JSONRenderer

    from api.v1.me import MeSerializer

    staff = request.getfixturevalue(role)
    _, raw = token_issue(staff=staff)
    response = bearer(raw).get(ME)
    assert response.status_code == 200
    assert response.content == JSONRenderer().render(MeSerializer(staff).data)
    assert response.json()["program"] == program.code
