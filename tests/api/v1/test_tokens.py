from rest_framework.test import APIClient

from caseload.models import ApiToken, AuditEvent
from tests.conftest import Api

URL = "/api/v1/tokens/"


def with_token(raw: str) -> APIClient:
    """A client carrying only this token (a persona client would send its own instead)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_new_token_is_shown_once_and_works(as_user, counselor):
    api = as_user(counselor)
    created = api.post(URL, {"name": "laptop", "expires_in_days": 7})
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("cl_")
    listed = api.get(URL).json()["results"]
    assert all("token" not in row for row in listed)
    assert {row["name"] for row in listed} >= {"laptop"}
    assert with_token(raw).get("/api/v1/me/").json()["username"] == "counselor"
    assert AuditEvent.objects.filter(action="token_issue", actor=counselor).exists()


def test_a_revoked_token_stops_working_at_once(as_user, counselor):
    api: Api = as_user(counselor)
    created = api.post(URL, {"name": "old phone"}).json()
    revoked = api.post(f"{URL}{created['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = with_token(created["token"]).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_nobody_sees_or_revokes_another_persons_token(as_user, counselor, supervisor):
    own = as_user(counselor).post(URL, {"name": "mine"}).json()
    assert as_user(supervisor).get(f"{URL}{own['id']}/").status_code == 404
    assert as_user(supervisor).post(f"{URL}{own['id']}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=own["id"]).revoked_at is None


def test_token_lifetime_is_bounded(as_user, counselor):
    response = as_user(counselor).post(URL, {"expires_in_days": 3650})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "expires_in_days"
