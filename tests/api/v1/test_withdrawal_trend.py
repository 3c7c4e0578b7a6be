import xml.etree.ElementTree as ET
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from caseload.models import AuditEvent
from caseload.services.records import record_mark_entered_in_error
from tests.domain_reference import CHECKLIST_SIGNS, checklist_items, cows_items, sows_items
from tests.factories import AssessmentFactory

SVG_CIRCLE = "{http://www.w3.org/2000/svg}circle"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
SVG_TITLE = "{http://www.w3.org/2000/svg}title"


def url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/withdrawal-trend/"


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def series(counselor, patient):
    """A falling COWS series and a short SOWS series, recorded out of order, plus a checklist."""
    return {
        "cows_late": AssessmentFactory(
            actor=counselor, patient=patient, items=cows_items(6), administered_at=hours_ago(2)
        ),
        "cows_early": AssessmentFactory(
            actor=counselor, patient=patient, items=cows_items(30), administered_at=hours_ago(20)
        ),
        "cows_middle": AssessmentFactory(
            actor=counselor, patient=patient, items=cows_items(15), administered_at=hours_ago(10)
        ),
        "sows": AssessmentFactory(
            actor=counselor,
            patient=patient,
            instrument="sows",
            items=sows_items(22),
            administered_at=hours_ago(9),
        ),
        "sows_later": AssessmentFactory(
            actor=counselor,
            patient=patient,
            instrument="sows",
            items=sows_items(0),
            administered_at=hours_ago(3),
        ),
        "checklist": AssessmentFactory(
            actor=counselor,
            patient=patient,
            instrument="withdrawal_checklist",
            items=checklist_items(*CHECKLIST_SIGNS),
            administered_at=hours_ago(5),
        ),
    }


def by_instrument(body) -> dict:
    return {one["instrument"]: one for one in body["series"]}


def test_trend_lists_cows_and_sows_series_oldest_first(as_user, prescriber, patient, series):
    response = as_user(prescriber).get(url(patient))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["patient"] == str(patient.id)
    assert body["last_use_at"] is not None
    assert body["last_use_at"][:19] == patient.last_use_at.isoformat()[:19]
    found = by_instrument(body)
    assert set(found) == {"cows", "sows"}
    cows = found["cows"]
    assert [(p["total_score"], p["severity"]) for p in cows["points"]] == [
        (30, "moderately_severe"),
        (15, "moderate"),
        (6, "mild"),
    ]
    assert [p["id"] for p in cows["points"]] == [
        str(series[k].id) for k in ("cows_early", "cows_middle", "cows_late")
    ]
    stamps = [p["administered_at"] for p in cows["points"]]
    assert stamps == sorted(stamps)
    assert [(p["total_score"], p["severity"]) for p in found["sows"]["points"]] == [
        (22, "severe"),
        (0, "none"),
    ]


def test_trend_carries_the_severity_bands_of_each_instrument(as_user, prescriber, patient, series):
    found = by_instrument(as_user(prescriber).get(url(patient)).json())
    assert [b["severity"] for b in found["cows"]["bands"]] == [
        "none",
        "mild",
        "moderate",
        "moderately_severe",
        "severe",
    ]
    assert found["cows"]["bands"][1] == {"severity": "mild", "low": 5, "high": 12}
    assert [b["severity"] for b in found["sows"]["bands"]] == ["none", "mild", "moderate", "severe"]


def test_entered_in_error_assessments_are_left_out(as_user, counselor, patient, series):
    record_mark_entered_in_error(
        instance=series["cows_middle"], actor=counselor, reason="Wrong patient."
    )
    cows = by_instrument(as_user(counselor).get(url(patient)).json())["cows"]
    assert [p["total_score"] for p in cows["points"]] == [30, 6]


def test_checklists_are_not_part_of_any_series(as_user, counselor, patient, series):
    body = as_user(counselor).get(url(patient)).json()
    ids = {p["id"] for one in body["series"] for p in one["points"]}
    assert str(series["checklist"].id) not in ids
    assert len(ids) == 5


def test_a_patient_without_assessments_has_empty_series(as_user, counselor, patient):
    body = as_user(counselor).get(url(patient)).json()
    assert [(one["instrument"], one["points"]) for one in body["series"]] == [
        ("cows", []),
        ("sows", []),
    ]


def circles_in(response) -> int:
    # The document is our own server's output, parsed to prove it is well-formed SVG.
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return len(list(root.iter(SVG_CIRCLE)))


def test_format_svg_returns_a_chart_with_one_circle_per_point(as_user, prescriber, patient, series):
    response = as_user(prescriber).get(url(patient), {"format": "svg"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert circles_in(response) == 5  # three COWS and two SOWS; no checklist


def svg_root(response) -> ET.Element:
    return ET.fromstring(response.content)  # noqa: S314 - our own server's output


@pytest.mark.parametrize("zone", ["UTC", "America/Chicago"])
def test_the_chart_shows_times_in_the_server_time_zone_and_says_so(
    as_user, prescriber, patient, series, settings, zone
):
    settings.TIME_ZONE = zone
    root = svg_root(as_user(prescriber).get(url(patient), {"format": "svg"}))

    x_titles = [el.text for el in root.iter(SVG_TEXT) if el.get("class") == "x-title"]
    assert x_titles == [f"Date and time ({zone})"]
    early = series["cows_early"]
    local = timezone.localtime(early.administered_at, ZoneInfo(zone))
    expected = f"COWS 30, moderately severe, {local:%Y-%m-%d %H:%M} {local.tzname()}"
    first = next(root.iter(SVG_CIRCLE))
    assert first.findtext(SVG_TITLE) == expected


def test_every_point_of_the_chart_carries_a_title_with_its_value(
    as_user, prescriber, patient, series
):
    root = svg_root(as_user(prescriber).get(url(patient), {"format": "svg"}))
    titles = [circle.findtext(SVG_TITLE) for circle in root.iter(SVG_CIRCLE)]

    assert len(titles) == 5
    assert [title.split(",")[0] for title in titles] == [
        "COWS 30",
        "COWS 15",
        "COWS 6",
        "SOWS 22",
        "SOWS 0",
    ]
    assert [title.split(", ")[1] for title in titles] == [
        "moderately severe",
        "moderate",
        "mild",
        "severe",
        "none",
    ]


def test_accept_header_svg_returns_the_chart(as_user, prescriber, patient, series):
    response = as_user(prescriber).get(url(patient), HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert circles_in(response) == 5


def test_svg_leaves_out_entered_in_error_points(as_user, counselor, patient, series):
    record_mark_entered_in_error(instance=series["sows"], actor=counselor, reason="Duplicate.")
    response = as_user(counselor).get(url(patient), {"format": "svg"})
    assert circles_in(response) == 4


def test_reading_the_trend_is_audited(as_user, prescriber, patient):
    as_user(prescriber).get(url(patient))
    event = AuditEvent.objects.get(action="read", detail__view="withdrawal_trend")
    assert (event.actor, event.patient_id) == (prescriber, patient.id)


@pytest.mark.parametrize("query", [{}, {"format": "svg"}])
def test_front_desk_may_not_see_the_trend(as_user, front_desk, patient, series, query):
    response = as_user(front_desk).get(url(patient), query)
    assert response.status_code == 403
    assert b"<circle" not in response.content


@pytest.mark.parametrize("query", [{}, {"format": "svg"}])
def test_a_counselor_off_the_caseload_gets_404(as_user, other_counselor, patient, series, query):
    response = as_user(other_counselor).get(url(patient), query)
    assert response.status_code == 404
    assert b"<circle" not in response.content


def test_another_program_gets_404(as_user, other_program_staff, patient):
    assert as_user(other_program_staff).get(url(patient)).status_code == 404
