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
