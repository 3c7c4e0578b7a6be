"""Calendar feeds: a staff member's own appointments as iCalendar, with no patient name and
nothing clinical, behind a secret link that revoking turns into a 404."""

from __future__ import annotations

from io import StringIO
from urllib.parse import urlparse

import pytest
from icalendar import Calendar

from caseload.models import AuditEvent
from caseload.services.appointments import appointment_transition
from tests.factories import PERSONA_PASSWORD, AppointmentFactory


def feed_path(api) -> tuple[str, str]:
    response = api.post("/api/v1/calendar-feeds/", {"password": PERSONA_PASSWORD}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url"}
    return body["id"], urlparse(body["url"]).path


@pytest.fixture
def appointments(supervisor, counselor, prescriber, patient):
    mine = [
        AppointmentFactory(actor=supervisor, patient=patient, staff=counselor, location="Room 2"),
        AppointmentFactory(actor=supervisor, patient=patient, staff=counselor, kind="intake"),
    ]
    theirs = AppointmentFactory(actor=supervisor, patient=patient, staff=prescriber)
    appointment_transition(appointment=mine[1], actor=supervisor, to="cancelled", reason="Ill.")
    return mine, theirs


def test_a_feed_lists_the_owners_appointments_without_a_header(
    as_user, counselor, patient, appointments, client
):
    mine, _theirs = appointments  # the prescriber's is not in the counselor's feed
    _, path = feed_path(as_user(counselor))
    response = client.get(path)  # no Authorization header
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{a.pk}@caseload" for a in mine}
    first = events[f"{mine[0].pk}@caseload"]
    assert str(first["summary"]) == "Counseling"
    assert str(first["location"]) == "Room 2"
    assert first.decoded("dtstart") == mine[0].start.replace(microsecond=0)
    assert str(first["description"]) == f"Ref {mine[0].pk.hex[:8].upper()}"
    assert str(events[f"{mine[1].pk}@caseload"]["status"]) == "CANCELLED"
    text = response.content.decode()
    for secret in (patient.given_name, patient.family_name, patient.mrn, "Ill."):
        assert secret not in text
    assert AuditEvent.objects.filter(
        actor=counselor, action="list", resource_type="appointment"
    ).exists()


def test_revoking_a_feed_makes_its_link_404(as_user, counselor, appointments, client):
    api = as_user(counselor)
    feed_id, path = feed_path(api)
    assert client.get(path).status_code == 200
    assert api.post(f"/api/v1/calendar-feeds/{feed_id}/revoke/").status_code == 200
    assert client.get(path).status_code == 404
    listed = api.get("/api/v1/calendar-feeds/").json()["results"]
    assert listed[0]["revoked_at"] is not None
    assert "url" not in listed[0]  # the link is shown once


@pytest.mark.parametrize("secret", ["cal_nothing", "nothing", "cal_" + "x" * 43])
def test_an_unknown_link_is_404(client, db, secret):
    assert client.get(f"/calendar/{secret}.ics").status_code == 404


def test_a_deactivated_owners_feed_is_404(as_user, counselor, appointments, client):
    _, path = feed_path(as_user(counselor))
    counselor.is_active = False
    counselor.save(update_fields=["is_active"])
    assert client.get(path).status_code == 404


def test_integrations_cannot_make_calendar_feeds(integration_client):
    assert integration_client.post("/api/v1/calendar-feeds/", {}, format="json").status_code == 403


def test_a_token_alone_cannot_make_a_link(as_user, counselor):
    api = as_user(counselor)
    missing = api.post("/api/v1/calendar-feeds/", {}, format="json")
    assert missing.status_code == 400
    assert [e["field"] for e in missing.json()["errors"]] == ["password"]
    wrong = api.post("/api/v1/calendar-feeds/", {"password": "not-the-password"}, format="json")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_password")
    assert not counselor.calendar_feeds.exists()


def test_revoking_every_token_revokes_the_links(as_user, counselor, client, appointments):
    _, path = feed_path(as_user(counselor))
    assert client.get(path).status_code == 200
    assert as_user(counselor).post("/api/v1/tokens/revoke-all/").status_code == 200
    assert client.get(path).status_code == 404


def test_the_revoke_tokens_command_revokes_the_links(as_user, counselor, client, appointments):
    from django.core.management import call_command

    _, path = feed_path(as_user(counselor))
    call_command("revoke_tokens", counselor.username, stdout=StringIO())
    assert client.get(path).status_code == 404


def test_revoking_the_token_that_made_a_link_revokes_it(counselor, client, appointments):
    from rest_framework.test import APIClient

    from caseload.services.tokens import token_issue

    token, raw = token_issue(staff=counselor)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    _, path = feed_path(api)
    other = APIClient()
    _, other_raw = token_issue(staff=counselor)
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_raw}")
    _, kept = feed_path(other)
    assert api.post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 200
    assert client.get(path).status_code == 404
    assert client.get(kept).status_code == 200
