"""The read paths stay cheap without changing what a client sees.

A list page never counts the whole list; a 304 reads the record narrowly and is still audited;
a bearer-token request skips the cookie machinery while sessions and the admin keep working;
date-times read exactly as DRF writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from api.v1.fields import DateTimeField
from caseload.models import Appointment, AuditEvent
from caseload.services.programs import staff_create
from tests.factories import AppointmentFactory, CaseNoteFactory, PatientFactory

APPOINTMENTS = "/api/v1/appointments/"
PASSWORD = "a-long-passphrase-1"


def booked(actor, patient, count: int) -> list[Appointment]:
    return [AppointmentFactory(actor=actor, patient=patient, staff=actor) for _ in range(count)]


@pytest.mark.parametrize("url", [APPOINTMENTS, "/api/v1/patients/", "/api/v1/notes/"])
def test_a_list_page_never_counts_the_whole_list(url, as_user, counselor, patient):
    booked(counselor, patient, 3)
    CaseNoteFactory(actor=counselor, patient=patient)
    api = as_user(counselor)
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"page_size": 1})
    assert response.status_code == 200
    assert set(response.json()) == {"next", "previous", "results"}
    sql = [query["sql"].upper() for query in captured.captured_queries]
    assert sql, "the page ran no query at all"
    assert not [statement for statement in sql if "COUNT(" in statement]


def test_pages_link_forward_while_rows_remain_and_a_page_past_the_last_is_a_404(
    as_user, counselor, patient
):
    ids = [str(a.pk) for a in booked(counselor, patient, 3)]
    api = as_user(counselor)

    first = api.get(APPOINTMENTS, {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == ids[:2]
    assert first["previous"] is None
    assert "page=2" in first["next"]

    second = api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == ids[2:]
    assert second["next"] is None
    assert second["previous"].endswith(f"{APPOINTMENTS}?page_size=2")

    exact = api.get(APPOINTMENTS, {"page_size": 3}).json()
    assert len(exact["results"]) == 3
    assert exact["next"] is None  # the extra row read finds nothing more

    for page_size, page in ((2, 3), (3, 2)):
        response = api.get(APPOINTMENTS, {"page_size": page_size, "page": page})
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "invalid_page"
        assert body["errors"][0]["field"] == "page"


def test_the_first_page_of_an_empty_list_is_empty_not_a_404(as_user, counselor, patient):
    response = as_user(counselor).get(APPOINTMENTS)
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_a_304_reads_the_record_narrowly_and_is_still_audited(as_user, counselor, patient):
    appointment = booked(counselor, patient, 1)[0]
    url = f"{APPOINTMENTS}{appointment.pk}/"
    api = as_user(counselor)
    etag = api.get(url)["ETag"]

    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response.content == b""
    reads = [
        q["sql"] for q in captured.captured_queries if 'FROM "caseload_appointment"' in q["sql"]
    ]
    assert reads, "the record was not looked up"
    assert all('"location"' not in sql for sql in reads), "a 304 read the whole row"

    event = AuditEvent.objects.order_by("-occurred_at").first()
    assert (event.action, event.status_code, event.outcome) == ("read", 304, "allowed")
    assert event.resource_id == str(appointment.pk)
    assert event.patient_id == patient.pk
    assert event.actor_id == counselor.pk


def test_a_changed_record_answers_200_to_its_old_etag(as_user, counselor, patient):
    appointment = booked(counselor, patient, 1)[0]
    url = f"{APPOINTMENTS}{appointment.pk}/"
    api = as_user(counselor)
    etag = api.get(url)["ETag"]
    assert api.patch(url, {"location": "Room 9"}, format="json").status_code == 200

    response = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["location"] == "Room 9"
    assert response["ETag"] != etag


def test_a_record_the_caller_may_not_see_is_never_a_304(
    as_user, counselor, other_counselor, patient
):
    appointment = booked(counselor, patient, 1)[0]
    url = f"{APPOINTMENTS}{appointment.pk}/"
    etag = as_user(counselor).get(url)["ETag"]

    response = as_user(other_counselor).get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 404
    event = AuditEvent.objects.order_by("-occurred_at").first()
    assert (event.actor_id, event.outcome, event.status_code) == (other_counselor.pk, "denied", 404)


def test_me_with_a_token_sets_no_cookie(as_user, counselor):
    response = as_user(counselor).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "counselor"
    assert response.json()["program"] == "riverside"
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_me_with_a_session_still_works_and_refreshes_the_session(program):
    staff_create(username="by.session", program=program, role="counselor", password=PASSWORD)
    client = Client()
    login = client.post("/api/auth/login/", {"username": "by.session", "password": PASSWORD})
    assert login.status_code in (200, 302)

    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "by.session"
    assert "sessionid" in response.cookies  # saved on every request: the idle timer restarts


def test_a_session_write_without_a_csrf_token_is_still_refused(program, patient):
    staff_create(username="by.session", program=program, role="supervisor", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="by.session", password=PASSWORD)
    response = client.post(
        "/api/v1/notes/",
        {"patient": str(patient.pk), "written_at": "2026-01-01T00:00:00Z", "body": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_admin_login_still_works_with_its_csrf_check(program):
    admin = staff_create(
        username="site.admin", program=program, role="supervisor", password=PASSWORD
    )
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value

    refused = client.post("/admin/login/", {"username": "site.admin", "password": PASSWORD})
    assert refused.status_code == 403

    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "site.admin",
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        datetime(2030, 1, 2, 3, 4, 5, 120, tzinfo=timezone(timedelta(hours=2))),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2030, 1, 2, 3, 4, 5),  # noqa: DTZ001 - naive: DRF's own path
        None,
        "2030-01-02T03:04:05Z",
    ],
)
def test_the_datetime_field_writes_exactly_what_drf_writes(value):
    assert DateTimeField().to_representation(value) == (
        serializers.DateTimeField().to_representation(value)
    )


def test_date_times_read_back_in_utc_with_a_z(as_user, counselor, patient):
    body = {
        "patient": str(patient.pk),
        "staff": str(counselor.pk),
        "kind": "counseling",
        "start": "2030-01-02T05:04:05+02:00",
        "end": "2030-01-02T05:54:05.250000+02:00",
    }
    created = as_user(counselor).post(APPOINTMENTS, body, format="json")
    assert created.status_code == 201, created.json()
    listed = as_user(counselor).get(APPOINTMENTS).json()["results"][0]
    for answer in (created.json(), listed):
        assert answer["start"] == "2030-01-02T03:04:05Z"
        assert answer["end"] == "2030-01-02T03:54:05.250000Z"
        assert answer["created_at"].endswith("Z")


def test_a_new_patient_is_listed_with_the_same_shape(as_user, supervisor, patient):
    PatientFactory(actor=supervisor)
    rows = as_user(supervisor).get("/api/v1/patients/", {"page_size": 1000}).json()["results"]
    assert len(rows) == 2
    assert all(row["created_at"].endswith("Z") for row in rows)


def test_record_serializers_write_what_drfs_own_reading_writes(counselor, patient):
    from rest_framework.test import APIRequestFactory

    from api.v1.appointments import AppointmentSerializer
    from api.v1.enrollments import EnrollmentSerializer
    from api.v1.notes import CaseNoteSerializer
    from api.v1.patients import PatientSerializer
    from caseload.models import CaseNote, Enrollment

    request = APIRequestFactory().get("/")
    request.user = counselor
    booked(counselor, patient, 1)
    CaseNoteFactory(actor=counselor, patient=patient)
    cases = [
        (AppointmentSerializer, Appointment.objects.first()),
        (EnrollmentSerializer, Enrollment.objects.first()),
        (CaseNoteSerializer, CaseNote.objects.first()),
        (PatientSerializer, patient),
    ]
    for serializer_class, instance in cases:
        serializer = serializer_class(instance, context={"request": request})
        drf = serializers.ModelSerializer.to_representation(serializer, instance)
        assert serializer.data == drf, serializer_class.__name__
        assert serializer.data["id"] == str(instance.pk)
