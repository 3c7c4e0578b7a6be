import itertools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from caseload.charts import SeriesPoint, TrendSeries, render_withdrawal_trend_svg
from tests.domain_reference import COWS_BANDS, SOWS_BANDS, band_of

NS = {"svg": "http://www.w3.org/2000/svg"}
START = datetime(2024, 11, 24, 6, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def cows(*readings: tuple[datetime, int]) -> TrendSeries:
    points = tuple(SeriesPoint(at, score, band_of(score, COWS_BANDS)) for at, score in readings)
    return TrendSeries("cows", "COWS", 48, COWS_BANDS, points)


def sows(*readings: tuple[datetime, int]) -> TrendSeries:
    points = tuple(SeriesPoint(at, score, band_of(score, SOWS_BANDS)) for at, score in readings)
    return TrendSeries("sows", "SOWS", 64, SOWS_BANDS, points)


def hours(n: float) -> datetime:
    return START + timedelta(hours=n)


def induction() -> list[TrendSeries]:
    return [
        cows((hours(0), 30), (hours(24), 14), (hours(72), 6)),
        sows((hours(0), 38), (hours(72), 7)),
    ]


def render(
    series: list[TrendSeries] | None = None,
    last_use_at: datetime | None = None,
    title: str = "Withdrawal trend",
    zone: tzinfo = UTC,
) -> ET.Element:
    svg = render_withdrawal_trend_svg(
        series=induction() if series is None else series,
        last_use_at=last_use_at,
        title=title,
        zone=zone,
    )
    # Parsing our own output, not untrusted input.
    return ET.fromstring(svg)  # noqa: S314


def render_in(zone: tzinfo) -> ET.Element:
    return render(zone=zone)


def panel(root: ET.Element, instrument: str) -> ET.Element:
    found = root.find(f"svg:g[@class='panel'][@data-instrument='{instrument}']", NS)
    assert found is not None
    return found


def frame(group: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a panel's plot area."""
    rect = group.find("svg:rect[@class='frame']", NS)
    assert rect is not None
    left, top = float(rect.get("x", "")), float(rect.get("y", ""))
    return left, top, left + float(rect.get("width", "")), top + float(rect.get("height", ""))


def bands(group: ET.Element) -> dict[str, tuple[float, float]]:
    """Severity -> (top y, bottom y) of each shaded band rect."""
    rects = group.findall("svg:rect[@class='band']", NS)
    return {
        rect.get("data-severity", ""): (
            float(rect.get("y", "")),
            float(rect.get("y", "")) + float(rect.get("height", "")),
        )
        for rect in rects
    }


def circles(group: ET.Element) -> list[ET.Element]:
    return group.findall("svg:circle[@class='point']", NS)


def centre(circle: ET.Element) -> tuple[float, float]:
    return float(circle.get("cx", "")), float(circle.get("cy", ""))


def texts(element: ET.Element, css_class: str) -> list[str]:
    return [
        text.text or ""
        for text in element.iter(f"{{{NS['svg']}}}text")
        if text.get("class") == css_class
    ]


def last_use_line(root: ET.Element) -> ET.Element:
    line = root.find("svg:line[@class='last-use']", NS)
    assert line is not None
    return line


def test_it_renders_a_standalone_svg_document_900_wide() -> None:
    root = render()

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "900"
    assert root.get("viewBox") == f"0 0 900 {root.get('height')}"
    assert int(root.get("height", "0")) > 0


def test_it_is_deterministic_for_the_same_input() -> None:
    first = render_withdrawal_trend_svg(series=induction(), last_use_at=hours(-14), title="T")
    second = render_withdrawal_trend_svg(series=induction(), last_use_at=hours(-14), title="T")

    assert first == second


def test_it_stacks_the_cows_panel_above_the_sows_panel() -> None:
    root = render()

    assert frame(panel(root, "cows"))[3] < frame(panel(root, "sows"))[1]


def test_it_shades_one_band_per_severity_in_each_panel_in_distinct_colours() -> None:
    root = render()

    assert list(bands(panel(root, "cows"))) == [band["severity"] for band in COWS_BANDS]
    assert list(bands(panel(root, "sows"))) == [band["severity"] for band in SOWS_BANDS]
    fills = [
        rect.get("fill") for rect in panel(root, "cows").findall("svg:rect[@class='band']", NS)
    ]
    assert len(set(fills)) == len(COWS_BANDS)


def test_the_cows_none_band_covers_scores_0_to_4_at_the_bottom_of_the_plot() -> None:
    cows_panel = panel(render(), "cows")
    _, top, _, bottom = frame(cows_panel)
    band_top, band_bottom = bands(cows_panel)["none"]

    # Bands reach half a point past their integer ends so that neighbouring bands meet: the
    # axis runs from -0.5 to 48, and "none" covers -0.5 to 4.5.
    assert band_bottom == pytest.approx(bottom, abs=0.01)
    assert (band_bottom - band_top) / (bottom - top) == pytest.approx(5 / 48.5, abs=0.001)


def test_bands_meet_without_gaps_and_the_severe_band_reaches_the_top() -> None:
    cows_panel = panel(render(), "cows")
    _, top, _, bottom = frame(cows_panel)
    extents = list(bands(cows_panel).values())

    for lower, upper in itertools.pairwise(extents):
        assert upper[1] == pytest.approx(lower[0], abs=0.01)
    assert extents[0][1] == pytest.approx(bottom, abs=0.01)
    assert extents[-1][0] == pytest.approx(top, abs=0.01)


def test_the_sows_none_band_is_tall_enough_to_see_and_label() -> None:
    sows_panel = panel(render([sows((hours(0), 0), (hours(6), 1), (hours(12), 11))]), "sows")
    extents = bands(sows_panel)
    none_top, none_bottom = extents["none"]
    mild_top, mild_bottom = extents["mild"]

    assert none_bottom - none_top >= 14
    assert mild_bottom == pytest.approx(none_top, abs=0.01)
    zero, one, eleven = (centre(circle)[1] for circle in circles(sows_panel))
    assert none_top < zero < none_bottom  # a score of 0 sits inside "none"
    assert mild_top < one < mild_bottom  # and 1 inside "mild", not on the line between them
    assert extents["moderate"][0] < eleven < extents["moderate"][1]
    # Above "none" the scale is linear and the ticks say where scores are drawn.
    ticks = {
        text.text: float(text.get("y", ""))
        for text in sows_panel.findall("svg:text[@class='y-tick']", NS)
    }
    per_point = (ticks["32"] - ticks["16"]) / 16
    assert ticks["64"] - ticks["32"] == pytest.approx(32 * per_point, abs=0.01)
    assert eleven == pytest.approx(ticks["16"] - 5 * per_point, abs=0.01)
    assert mild_bottom == pytest.approx(ticks["16"] - 15.5 * per_point, abs=0.01)


@pytest.mark.parametrize("instrument", ["cows", "sows"])
def test_every_band_label_sits_inside_its_own_band_clear_of_its_neighbours(instrument) -> None:
    group = panel(render(), instrument)
    extents = bands(group)
    labels = group.findall("svg:text[@class='band-label']", NS)

    for label in labels:
        top, bottom = extents[(label.text or "").replace(" ", "_")]
        assert top <= float(label.get("y", "")) <= bottom, label.text
    ys = sorted(float(label.get("y", "")) for label in labels)
    assert all(b - a >= 13 for a, b in itertools.pairwise(ys))


def lightness(hex_colour: str) -> float:
    """CIE L* of an sRGB colour."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 116 * (y ** (1 / 3) if y > 0.008856 else 7.787 * y + 16 / 116) - 16


def test_band_colours_darken_with_severity_and_the_top_two_are_far_apart() -> None:
    cows_panel = panel(render(), "cows")
    fills = {
        rect.get("data-severity"): rect.get("fill", "")
        for rect in cows_panel.findall("svg:rect[@class='band']", NS)
    }
    ramp = [lightness(fills[s]) for s in ("mild", "moderate", "moderately_severe", "severe")]

    # Told apart by lightness, which colour-vision deficiencies keep, not by hue alone.
    assert all(a - b >= 8 for a, b in itertools.pairwise(ramp)), ramp
    assert ramp[2] - ramp[3] >= 12
    assert min(ramp) >= 55  # light enough for the dark trend line to stay readable on top
    assert all(
        rect.get("fill-opacity") is None
        for rect in cows_panel.findall("svg:rect[@class='band']", NS)
    )


def test_band_names_are_written_past_the_right_edge_of_the_plot() -> None:
    sows_panel = panel(render(), "sows")
    right = frame(sows_panel)[2]
    labels = sows_panel.findall("svg:text[@class='band-label']", NS)

    assert [label.text for label in labels] == ["none", "mild", "moderate", "severe"]
    assert all(float(label.get("x", "")) > right for label in labels)
    label_ys = sorted(float(label.get("y", "")) for label in labels)
    assert all(b - a >= 12 for a, b in itertools.pairwise(label_ys))


def test_the_y_axis_runs_from_zero_to_the_instrument_maximum() -> None:
    root = render()

    for instrument, maximum in (("cows", "48"), ("sows", "64")):
        ticks = texts(panel(root, instrument), "y-tick")
        assert ticks[0] == "0"
        assert ticks[-1] == maximum


def test_it_draws_one_circle_per_point_further_right_for_later_times() -> None:
    root = render()
    cows_xs = [centre(circle)[0] for circle in circles(panel(root, "cows"))]

    assert len(cows_xs) == 3
    assert cows_xs == sorted(cows_xs)
    assert len(set(cows_xs)) == 3
    # 24 h of a 72 h span sits a third of the way along.
    assert (cows_xs[1] - cows_xs[0]) / (cows_xs[2] - cows_xs[0]) == pytest.approx(1 / 3, abs=0.01)


def test_lower_scores_are_drawn_lower_on_the_panel() -> None:
    cows_panel = panel(render(), "cows")
    _, top, _, bottom = frame(cows_panel)
    cows_ys = [centre(circle)[1] for circle in circles(cows_panel)]

    assert cows_ys[0] < cows_ys[1] < cows_ys[2]  # scores 30, 14, 6: SVG y grows downwards
    assert cows_ys[0] == pytest.approx(bottom - 30.5 / 48.5 * (bottom - top), abs=0.01)


def test_the_panels_share_one_time_axis() -> None:
    root = render()
    cows_xs = [centre(circle)[0] for circle in circles(panel(root, "cows"))]
    sows_xs = [centre(circle)[0] for circle in circles(panel(root, "sows"))]

    assert sows_xs == [cows_xs[0], cows_xs[2]]


def test_the_scores_are_joined_by_a_polyline_through_every_circle() -> None:
    cows_panel = panel(render(), "cows")
    polyline = cows_panel.find("svg:polyline", NS)
    assert polyline is not None
    vertices = [tuple(map(float, pair.split(","))) for pair in polyline.get("points", "").split()]

    assert vertices == [centre(circle) for circle in circles(cows_panel)]


def test_each_circle_has_a_title_with_instrument_score_severity_and_time() -> None:
    root = render()
    titles = [
        circle.findtext("svg:title", namespaces=NS)
        for name in ("cows", "sows")
        for circle in circles(panel(root, name))
    ]

    assert titles == [
        "COWS 30, moderately severe, 2024-11-24 06:00 UTC",
        "COWS 14, moderate, 2024-11-25 06:00 UTC",
        "COWS 6, mild, 2024-11-27 06:00 UTC",
        "SOWS 38, severe, 2024-11-24 06:00 UTC",
        "SOWS 7, mild, 2024-11-27 06:00 UTC",
    ]


def test_each_circle_carries_its_score_and_severity_as_data() -> None:
    first = circles(panel(render(), "cows"))[0]

    assert (first.get("data-score"), first.get("data-severity")) == ("30", "moderately_severe")


def test_times_are_shown_in_utc_by_default_whatever_the_input_offset() -> None:
    eastern = timezone(timedelta(hours=-5))
    root = render([cows((datetime(2024, 11, 24, 1, 0, tzinfo=eastern), 30))])

    hover = circles(panel(root, "cows"))[0].findtext("svg:title", namespaces=NS)
    assert hover == "COWS 30, moderately severe, 2024-11-24 06:00 UTC"
    assert texts(root, "x-title") == ["Date and time (UTC)"]
    ticks = texts(root, "x-tick")
    assert ticks
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{2} \d{2}:\d{2}", tick) for tick in ticks)


def test_the_x_axis_title_names_the_zone_the_times_are_shown_in() -> None:
    root = render_in(NEW_YORK)

    assert texts(root, "x-title") == ["Date and time (America/New_York)"]
    title = root.find("svg:text[@class='x-title']", NS)
    assert title is not None
    assert float(title.get("y", "")) > frame(panel(root, "sows"))[3]
    assert float(title.get("y", "")) < float(root.get("height", ""))


def test_day_ticks_fall_on_midnight_in_the_charts_zone() -> None:
    # The points run from 01:00 EST on Nov 24 (06:00 UTC) to 01:00 EST on Nov 27.
    root = render_in(NEW_YORK)
    first, _, last = (centre(circle)[0] for circle in circles(panel(root, "cows")))
    ticks = root.findall("svg:text[@class='x-tick']", NS)

    assert [tick.text for tick in ticks] == ["Nov 24", "Nov 25", "Nov 26", "Nov 27"]
    # Local midnight of Nov 25 is 23 h after the first point, 05:00 UTC rather than 00:00 UTC.
    for tick, hours_after_first in zip(ticks[1:], (23, 47, 71), strict=True):
        expected = first + (last - first) * hours_after_first / 72
        assert float(tick.get("x", "")) == pytest.approx(expected, abs=0.01)


def test_titles_use_the_zones_own_abbreviation_across_a_dst_change() -> None:
    spring = datetime(2024, 3, 10, 5, 0, tzinfo=UTC)  # 00:00 EST; clocks go forward at 02:00
    root = render(
        [cows((spring, 30), (spring + timedelta(hours=4), 20))],
        zone=NEW_YORK,
    )
    titles = [c.findtext("svg:title", namespaces=NS) for c in circles(panel(root, "cows"))]

    assert titles == [
        "COWS 30, moderately severe, 2024-03-10 00:00 EST",
        "COWS 20, moderate, 2024-03-10 05:00 EDT",
    ]
    ticks = texts(root, "x-tick")
    assert "Mar 10 02:00" not in ticks  # that wall-clock time did not exist
    assert all(re.fullmatch(r"Mar \d{2} \d{2}:\d{2}", tick) for tick in ticks)


def test_tick_labels_carry_the_year_when_the_axis_crosses_one() -> None:
    new_year = datetime(2024, 12, 30, 12, 0, tzinfo=UTC)
    root = render([cows((new_year, 30), (new_year + timedelta(days=4), 10))])

    ticks = texts(root, "x-tick")
    assert "Dec 31 2024" in ticks
    assert "Jan 01 2025" in ticks


def test_the_last_use_line_lies_between_points_when_last_use_does() -> None:
    root = render(last_use_at=hours(36))
    xs = [centre(circle)[0] for circle in circles(panel(root, "cows"))]
    line = last_use_line(root)

    assert xs[1] < float(line.get("x1", "")) < xs[2]
    assert line.get("x1") == line.get("x2")


def test_the_last_use_line_crosses_every_panel_and_is_labelled() -> None:
    root = render(last_use_at=hours(36))
    line = last_use_line(root)

    assert float(line.get("y1", "")) <= frame(panel(root, "cows"))[1]
    assert float(line.get("y2", "")) >= frame(panel(root, "sows"))[3]
    assert texts(root, "last-use-label") == ["Last use"]


def test_a_last_use_before_the_first_point_widens_the_time_axis_to_include_it() -> None:
    root = render(last_use_at=hours(-14))
    left, _, right, _ = frame(panel(root, "cows"))
    first_x = centre(circles(panel(root, "cows"))[0])[0]

    assert left < float(last_use_line(root).get("x1", "")) < first_x < right


def test_it_draws_no_last_use_line_without_a_last_use_time() -> None:
    root = render()

    assert root.find("svg:line[@class='last-use']", NS) is None
    assert texts(root, "last-use-label") == []


def test_a_title_containing_markup_is_escaped_text_not_elements() -> None:
    title = 'Jane <script>alert("x")</script> & <b>Doe</b>'
    root = render(title=title)

    assert not [element for element in root.iter() if element.tag.endswith(("script", "}b"))]
    assert texts(root, "title") == [title]


def test_a_title_with_characters_xml_cannot_hold_still_renders() -> None:
    root = render(title="Jane\x00 Doe\x1b")

    assert texts(root, "title") == ["Jane Doe"]


def test_an_empty_series_still_draws_its_panel_with_a_no_assessments_note() -> None:
    root = render([cows((hours(0), 30), (hours(6), 20)), sows()])
    sows_panel = panel(root, "sows")

    assert texts(sows_panel, "empty") == ["No assessments recorded"]
    assert circles(sows_panel) == []
    assert sows_panel.find("svg:polyline", NS) is None
    assert list(bands(sows_panel)) == [band["severity"] for band in SOWS_BANDS]
    assert texts(panel(root, "cows"), "empty") == []


def test_with_no_points_and_no_last_use_it_draws_both_panels_empty_without_a_time_axis() -> None:
    root = render([cows(), sows()])

    assert texts(root, "empty") == ["No assessments recorded"] * 2
    assert texts(root, "x-tick") == []


def test_a_one_point_series_is_centred_on_a_padded_axis_without_a_line() -> None:
    root = render([cows((hours(0), 10))])
    cows_panel = panel(root, "cows")
    left, _, right, _ = frame(cows_panel)

    assert len(circles(cows_panel)) == 1
    assert cows_panel.find("svg:polyline", NS) is None
    assert centre(circles(cows_panel)[0])[0] == pytest.approx((left + right) / 2, abs=0.01)
    # ±12 h around 06:00 runs from 18:00 the day before to 18:00.
    assert texts(root, "x-tick")[0].startswith("Nov 23")
    assert texts(root, "x-tick")[-1].startswith("Nov 24")


def test_the_caption_sits_under_the_chart() -> None:
    root = render()
    caption = root.find("svg:text[@class='caption']", NS)
    assert caption is not None

    assert caption.text == "Severity bands shaded; SOWS bands are the program's interpretation."
    assert float(caption.get("y", "")) > frame(panel(root, "sows"))[3]
    assert float(caption.get("y", "")) <= float(root.get("height", ""))


def test_it_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_withdrawal_trend_svg(
            series=[cows((datetime(2024, 11, 24, 6, 0), 30))],  # noqa: DTZ001
            last_use_at=None,
            title="T",
        )
