"""Every list page has an ETag; If-None-Match naming it answers 304 without serializing."""

from __future__ import annotations

from unittest import mock

import pytest

from api.v1.appointments import AppointmentSerializer
from tests.factories import AppointmentFactory, CaseNoteFactory

LISTS = ["/api/v1/appointments/", "/api/v1/patients/", "/api/v1/notes/"]


@pytest.fixture
def records(supervisor, counselor, patient):
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    CaseNoteFactory(actor=counselor, patient=patient)


@pytest.mark.parametrize("url", LISTS)
def test_a_list_page_answers_304_to_its_own_etag(as_user, counselor, records, url):
    api = as_user(counselor)
    first = api.get(url)
    etag = first["ETag"]
    assert etag.startswith('"l') and etag.endswith('"')
    again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    assert api.get(url, HTTP_IF_NONE_MATCH='W/"other", ' + etag).status_code == 304


def test_a_304_serializes_nothing(as_user, counselor, records):
    api = as_user(counselor)
    etag = api.get("/api/v1/appointments/")["ETag"]
    with mock.patch.object(
        AppointmentSerializer, "to_representation", side_effect=AssertionError("serialized")
    ):
        assert api.get("/api/v1/appointments/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_change_to_any_row_changes_the_etag(as_user, counselor, patient, records):
    api = as_user(counselor)
    etag = api.get("/api/v1/appointments/")["ETag"]
    appointment_id = api.get("/api/v1/appointments/").json()["results"][0]["id"]
    assert (
        api.patch(f"/api/v1/appointments/{appointment_id}/", {"location": "Room 4"}).status_code
        == 200
    )
    response = api.get("/api/v1/appointments/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_new_row_or_another_page_has_another_etag(
    as_user, supervisor, counselor, patient, records
):
    api = as_user(counselor)
    etag = api.get("/api/v1/appointments/")["ETag"]
    AppointmentFactory(actor=supervisor, patient=patient, staff=counselor)
    assert api.get("/api/v1/appointments/")["ETag"] != etag
    assert (
        api.get("/api/v1/appointments/", {"page_size": 1})["ETag"]
        != api.get("/api/v1/appointments/", {"page_size": 1, "page": 2})["ETag"]
    )


def test_roles_that_see_different_fields_get_different_etags(
    as_user, counselor, front_desk, records
):
    # Front desk does not see the clinical fields of the same patients.
    assert (
        as_user(counselor).get("/api/v1/patients/")["ETag"]
        != as_user(front_desk).get("/api/v1/patients/")["ETag"]
    )


def test_a_malformed_if_none_match_is_a_400_naming_it(as_user, counselor, records):
    response = as_user(counselor).get("/api/v1/appointments/", HTTP_IF_NONE_MATCH="bogus")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "If-None-Match"


def test_a_304_to_an_integration_writes_no_disclosure(integration_client, records):
    from caseload.models import Disclosure

    etag = integration_client.get("/api/v1/appointments/")["ETag"]
    count = Disclosure.objects.count()
    assert (
        integration_client.get("/api/v1/appointments/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    )
    assert Disclosure.objects.count() == count
