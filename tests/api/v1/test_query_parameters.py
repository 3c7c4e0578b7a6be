"""Query strings are checked like bodies: unknown, repeated or malformed parameters are a 400."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.models import AuditEvent
from tests.api.v1.test_permission_matrix import (  # the matrix's scenarios build each route
    ACTION_BODIES,
    CORRECTION,
    PERSONAS,
    TABLE,
    URL_WITHOUT_ID,
    ctx,  # noqa: F401  (a fixture)
    scenario_for,
)
from tests.conftest import api_for
from tests.factories import AppointmentFactory, CaseNoteFactory


def errors_of(response) -> list[tuple[str | None, str]]:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert (body["code"], body["detail"]) == ("validation_error", "Invalid input.")
    return sorted((error["field"], error["code"]) for error in body["errors"])


def test_a_misspelt_filter_is_refused_not_ignored(as_user, counselor, patient):
    response = as_user(counselor).get("/api/v1/appointments/?updated_snce=2026-01-01T00:00:00Z")
    assert errors_of(response) == [("updated_snce", "unknown_parameter")]
    assert response.json()["errors"][0]["detail"] == "Unknown query parameter."


def test_ordering_is_not_a_parameter(as_user, counselor, patient):
    response = as_user(counselor).get("/api/v1/notes/?ordering=-written_at")
    assert errors_of(response) == [("ordering", "unknown_parameter")]


def test_a_repeated_filter_is_refused_rather_than_one_value_used(
    as_user, counselor, patient, other_patient
):
    response = as_user(counselor).get(
        f"/api/v1/notes/?patient={patient.pk}&patient={other_patient.pk}"
    )
    assert errors_of(response) == [("patient", "repeated_parameter")]
    assert response.json()["errors"][0]["detail"] == "Send this parameter once."


def test_a_repeated_page_is_refused(as_user, counselor, patient):
    assert errors_of(as_user(counselor).get("/api/v1/patients/?page=1&page=2")) == [
        ("page", "repeated_parameter")
    ]


def test_every_problem_with_the_query_is_reported_at_once(as_user, counselor, patient):
    response = as_user(counselor).get(
        "/api/v1/appointments/?patient=nope&start_after=soon&page_size=0&status=x&status=y&zz=1"
    )
    assert errors_of(response) == [
        ("page_size", "invalid_page_size"),
        ("patient", "invalid"),
        ("start_after", "invalid"),
        ("status", "repeated_parameter"),
        ("zz", "unknown_parameter"),
    ]


def test_known_filters_and_paging_still_work(as_user, counselor, patient):
    CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).get(
        f"/api/v1/notes/?patient={patient.pk}&status=final&page=1&page_size=5"
    )
    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) == 1


def test_a_refused_list_is_not_read_or_audited(as_user, counselor, patient):
    AppointmentFactory(actor=counselor, patient=patient, staff=counselor)
    api = as_user(counselor)
    before = AuditEvent.objects.count()
    response = api.get("/api/v1/appointments/?updated_snce=2026-01-01")
    assert response.status_code == 400
    assert "results" not in response.json()
    assert AuditEvent.objects.count() == before


def test_filters_belong_to_lists_not_to_one_record(as_user, counselor, patient):
    note = CaseNoteFactory(actor=counselor, patient=patient)
    response = as_user(counselor).get(f"/api/v1/notes/{note.pk}/?status=final")
    assert errors_of(response) == [("status", "unknown_parameter")]


def test_a_body_endpoint_refuses_query_parameters_too(as_user, counselor, patient):
    body = {"patient": str(patient.pk), "written_at": "2026-01-01T00:00:00Z", "body": "x"}
    response = as_user(counselor).post("/api/v1/notes/?dry_run=1", body, format="json")
    assert errors_of(response) == [("dry_run", "unknown_parameter")]


def test_an_unauthenticated_request_is_401_before_its_query_is_read(anonymous, db):
    assert anonymous.get("/api/v1/notes/?zz=1").status_code == 401


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("format=svg", 200),
        ("format=json", 200),
        ("format=pdf", [("format", "invalid_choice")]),
        ("format=svg&format=json", [("format", "repeated_parameter")]),
        ("format=svg&zoom=2", [("zoom", "unknown_parameter")]),
    ],
)
def test_the_trend_reads_format_and_nothing_else(as_user, counselor, patient, query, expected):
    response = as_user(counselor).get(f"/api/v1/patients/{patient.pk}/withdrawal-trend/?{query}")
    if expected == 200:
        assert response.status_code == 200
    else:
        assert errors_of(response) == expected


@pytest.mark.parametrize(
    "url", ["/api/v1/patients/", "/api/v1/me/", "/api/v1/instruments/", "/api/v1/staff/"]
)
def test_format_is_refused_where_the_view_has_one_format(as_user, counselor, url):
    for value in ("json", "svg"):
        response = as_user(counselor).get(url, {"format": value})
        assert errors_of(response) == [("format", "unknown_parameter")]


# page_size --------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", ["0", "1001", "100000", "9" * 5000])
def test_a_page_size_out_of_range_is_refused_like_zero(as_user, counselor, page_size):
    response = as_user(counselor).get("/api/v1/patients/", {"page_size": page_size})
    assert errors_of(response) == [("page_size", "invalid_page_size")]
    assert response.json()["errors"][0]["detail"] == "Send a whole number from 1 to 1000."


@pytest.mark.parametrize("page_size", ["1", "1000"])
def test_a_page_size_from_1_to_1000_is_accepted(as_user, counselor, patient, page_size):
    response = as_user(counselor).get("/api/v1/patients/", {"page_size": page_size})
    assert response.status_code == 200


# Every route, and the schema ----------------------------------------------------------------

# Every route and method of the permission matrix, as the first persona it lets through (a 409
# is a request that passed every access check and met the record's state).
ROUTES = sorted(
    (
        route,
        method,
        next(p for p, status in zip(PERSONAS, row, strict=True) if status < 300 or status == 409),
    )
    for (route, method), row in TABLE.items()
)


def _url_and_body(route: str, method: str, context) -> tuple[str, dict | None]:
    scenario = scenario_for(route, context)
    if route in URL_WITHOUT_ID or route.endswith("-list"):
        url = reverse(route)
    else:
        url = reverse(route, kwargs={"pk": scenario.target().pk})
    if method == "POST":
        if route.endswith("-list"):
            return url, scenario.create()
        body = ACTION_BODIES.get(route, CORRECTION)
        return url, body(context) if callable(body) else body
    if method == "PATCH":
        return url, scenario.update()
    if method == "PUT":
        return url, (scenario.put or scenario.update)()
    return url, None


@pytest.mark.parametrize(
    ("route", "method", "persona"), ROUTES, ids=[f"{r}:{m}" for r, m, _ in ROUTES]
)
def test_every_route_refuses_an_unknown_parameter_and_writes_nothing(
    ctx,  # noqa: F811  (the matrix's fixture)
    route,
    method,
    persona,
):
    url, body = _url_and_body(route, method, ctx)
    client = api_for(getattr(ctx, persona))
    before = AuditEvent.objects.count()
    response = getattr(client, method.lower())(f"{url}?zz_typo=1", body, format="json")
    assert errors_of(response) == [("zz_typo", "unknown_parameter")]
    assert AuditEvent.objects.count() == before  # nothing written, nothing read


def test_every_documented_query_parameter_is_accepted(as_user, supervisor, patient):
    """The schema and the server agree: a parameter the schema lists is never `unknown`."""
    api = as_user(supervisor)
    schema = api.get("/api/schema/?format=json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/") or "get" not in operations:
            continue
        names = [p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        url = path.replace("{id}", str(patient.pk))
        if "{id}" in path and not path.startswith("/api/v1/patients/"):
            continue  # a detail route of another record type: no query parameters at all
        for name in names:
            response = api.get(url, {name: ""})
            codes = [e["code"] for e in response.json().get("errors", []) if e["field"] == name]
            assert "unknown_parameter" not in codes, (path, name)
            checked += 1
    assert checked >= 40
