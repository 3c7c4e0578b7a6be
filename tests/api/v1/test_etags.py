import threading

import pytest
from django.db import connection

from caseload.models import Patient


def detail(patient) -> str:
    return f"/api/v1/patients/{patient.id}/"


def test_reads_carry_an_etag_that_changes_with_each_update(as_user, counselor, patient):
    api = as_user(counselor)
    first = api.get(detail(patient))["ETag"]
    updated = api.patch(detail(patient), {"phone": "555-0101"}, HTTP_IF_MATCH=first)
    assert updated.status_code == 200
    assert updated["ETag"] != first
    assert api.get(detail(patient))["ETag"] == updated["ETag"]


def test_a_stale_etag_answers_412_and_changes_nothing(as_user, counselor, patient):
    api = as_user(counselor)
    etag = api.get(detail(patient))["ETag"]
    assert api.patch(detail(patient), {"phone": "555-0102"}, HTTP_IF_MATCH=etag).status_code == 200
    stale = api.patch(detail(patient), {"phone": "555-0103"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_etag"
    assert Patient.objects.get(pk=patient.pk).phone == "555-0102"


def test_a_malformed_if_match_is_a_400_naming_the_header(as_user, counselor, patient):
    response = as_user(counselor).patch(detail(patient), {"phone": "1"}, HTTP_IF_MATCH="bogus")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "If-Match"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_updates_with_the_same_etag_cannot_both_win(as_user, counselor, patient):
    etag = as_user(counselor).get(detail(patient))["ETag"]
    clients = [as_user(counselor), as_user(counselor)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def write(api, phone: str) -> None:
        barrier.wait()
        try:
            statuses.append(
                api.patch(detail(patient), {"phone": phone}, HTTP_IF_MATCH=etag).status_code
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(api, f"555-01{i}0")) for i, api in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    assert Patient.objects.get(pk=patient.pk).version == 2


def test_a_conditional_read_of_an_unchanged_record_answers_304(as_user, counselor, patient):
    api = as_user(counselor)
    etag = api.get(detail(patient))["ETag"]
    unchanged = api.get(detail(patient), HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged["ETag"] == etag
    api.patch(detail(patient), {"phone": "555-0109"})
    assert api.get(detail(patient), HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        '"not-the-etag"',
        'W/"v1"',  # If-Match compares strongly: a weak tag never matches
        '"v2", "v3"',
        '"v1-gzip"',
        '""',
    ],
)
def test_a_well_formed_if_match_that_matches_nothing_answers_412(
    as_user, counselor, patient, header
):
    response = as_user(counselor).patch(detail(patient), {"phone": "1"}, HTTP_IF_MATCH=header)
    assert response.status_code == 412, response.json()
    assert Patient.objects.get(pk=patient.pk).version == 1


@pytest.mark.parametrize(
    "header",
    ["*", '"v1"', '"v0", "v1"', '"x", , "v1"', ' "v1" ,', '"v9","v1"', '"a,b", "v1"'],
)
def test_if_match_accepts_star_and_any_list_naming_the_current_tag(
    as_user, counselor, patient, header
):
    response = as_user(counselor).patch(detail(patient), {"phone": "2"}, HTTP_IF_MATCH=header)
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("header", ["bogus", "v1", '"v1" "v2"', '"unterminated', "W/v1", ","])
def test_an_if_match_that_is_not_a_list_of_entity_tags_is_a_400(
    as_user, counselor, patient, header
):
    response = as_user(counselor).patch(detail(patient), {"phone": "3"}, HTTP_IF_MATCH=header)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "If-Match",
        "code": "invalid_etag",
        "detail": "Send entity tags as the ETag header gave them, or *.",
    }


@pytest.mark.parametrize("header", ["*", 'W/"v1"', '"v0", W/"v1"'])
def test_if_none_match_compares_weakly_and_accepts_star(as_user, counselor, patient, header):
    assert as_user(counselor).get(detail(patient), HTTP_IF_NONE_MATCH=header).status_code == 304


def test_if_match_on_a_transition_endpoint_is_checked_the_same_way(as_user, supervisor, patient):
    enrollment = patient.enrollments.get()
    url = f"/api/v1/enrollments/{enrollment.id}/discharge/"
    body = {"discharge_reason": "completed"}
    api = as_user(supervisor)
    assert api.post(url, body, HTTP_IF_MATCH='"nope"').status_code == 412
    assert api.post(url, body, HTTP_IF_MATCH='"v1"').status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/",
        "/api/v1/patients/{id}/",
        "/api/v1/patients/{id}/history/",
        "/api/v1/patients/{id}/withdrawal-trend/?format=svg",
        "/api/v1/patients/00000000-0000-0000-0000-000000000000/",
        "/api/v1/me/",
    ],
)
def test_responses_with_patient_data_are_never_stored_by_caches(as_user, counselor, patient, path):
    response = as_user(counselor).get(path.format(id=patient.id))
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


def test_a_304_carries_no_store_too(as_user, counselor, patient):
    api = as_user(counselor)
    etag = api.get(detail(patient))["ETag"]
    response = api.get(detail(patient), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert "no-store" in response["Cache-Control"]
