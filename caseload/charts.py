"""Withdrawal-trend chart: COWS/SOWS totals over time rendered as a standalone SVG document.

Pure and deterministic: the same input always yields the same bytes. Built with ElementTree so
every piece of text (the title may hold a patient's name) is escaped, never trusted as markup.

Times are shown in one named time zone (the server's, passed in), which the x axis title names.
Severity bands are shaded in a colour-blind-safe sequence (pale blue for none, then yellow to red
with falling lightness, so neighbours differ in lightness as well as hue), and every band is at
least MIN_BAND_HEIGHT pixels tall, so SOWS "none" (the single score 0) stays visible and
labelled. Each point carries a <title> with its instrument, score, severity and time.
"""

import bisect
import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

SVG_NS = "http://www.w3.org/2000/svg"
CAPTION = "Severity bands shaded; SOWS bands are the program's interpretation."
EMPTY_TEXT = "No assessments recorded"

WIDTH = 900
PLOT_LEFT = 72
PLOT_RIGHT = WIDTH - 136
TOP = 64
PANEL_HEIGHT = 190
PANEL_GAP = 36
AXIS_HEIGHT = 48
CAPTION_HEIGHT = 32
BAND_LABEL_SPACING = 13.0
MIN_BAND_HEIGHT = 14.0
SINGLE_MOMENT_PAD = timedelta(hours=12)
EDGE_PAD_FRACTION = 0.04
MAX_INTERVALS = 6

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Opaque tints with CIE L* 91, 96, 88, 75, 61: the two most severe bands differ by 14 in
# lightness (13-16 under simulated deuteranopia and protanopia), none is blue against yellows.
BAND_COLOURS = {
    "none": "#dae8f5",
    "mild": "#fff5c0",
    "moderate": "#fed7a0",
    "moderately_severe": "#f7a872",
    "severe": "#e27174",
}
UNKNOWN_BAND_COLOUR = "#cfd8dc"
STYLESHEET = """
text { font-family: sans-serif; font-size: 11px; fill: #333333; }
.title { font-size: 18px; font-weight: bold; fill: #000000; }
.panel-label, .empty, .x-tick, .x-title, .last-use-label { text-anchor: middle; }
.y-tick { text-anchor: end; }
.y-tick, .band-label { dominant-baseline: central; }
.caption { font-size: 12px; fill: #444444; }
.panel-label { font-size: 13px; font-weight: bold; fill: #000000; }
.x-title { font-size: 12px; fill: #000000; }
.empty { font-size: 14px; fill: #555555; }
.frame { fill: none; stroke: #777777; }
.grid { stroke: #000000; stroke-opacity: 0.12; }
.tick { stroke: #777777; }
.trend { fill: none; stroke: #1a3a6e; stroke-width: 2; }
.point { fill: #1a3a6e; stroke: #ffffff; stroke-width: 1.5; }
.last-use { stroke: #6a1b9a; stroke-width: 1.5; stroke-dasharray: 6 4; }
.last-use-label { font-size: 12px; fill: #6a1b9a; }
"""
SCORE_STEPS = (1, 2, 4, 5, 8, 10, 12, 16, 20, 25, 50, 100)
TIME_STEPS_HOURS = (1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2880, 8760)

# Characters XML 1.0 cannot carry at all; escaping does not help, so they are dropped.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    total_score: int
    severity: str


@dataclass(frozen=True)
class TrendSeries:
    instrument: str
    label: str
    max_score: int
    bands: tuple[dict, ...]
    points: tuple[SeriesPoint, ...]


@dataclass(frozen=True)
class _TimeAxis:
    start: datetime
    end: datetime
    zone: tzinfo

    def x(self, at: datetime) -> float:
        fraction = (at - self.start) / (self.end - self.start)
        return PLOT_LEFT + fraction * (PLOT_RIGHT - PLOT_LEFT)


@dataclass(frozen=True)
class _ScoreAxis:
    """Scores to y, linear within each band; a band too thin to see gets MIN_BAND_HEIGHT pixels,
    taken from the taller bands, so its shading and label never vanish."""

    top: float
    max_score: int
    extents: tuple[tuple[float, float], ...] = ()
    _scores: list[float] = field(init=False, repr=False, compare=False)
    _ys: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_score <= 0:
            raise ValueError("A trend series needs a positive max_score.")
        low = min([0.0, *(start for start, _ in self.extents)])
        cuts = sorted({low, float(self.max_score), *(v for e in self.extents for v in e)})
        cuts = [cut for cut in cuts if low <= cut <= self.max_score]
        heights = _fit_heights([b - a for a, b in itertools.pairwise(cuts)])
        ys = [self.bottom]
        for height in heights:
            ys.append(ys[-1] - height)
        object.__setattr__(self, "_scores", cuts)
        object.__setattr__(self, "_ys", ys)

    @property
    def bottom(self) -> float:
        return self.top + PANEL_HEIGHT

    def y(self, score: float) -> float:
        scores, ys = self._scores, self._ys
        score = min(max(score, scores[0]), scores[-1])
        i = min(max(bisect.bisect_right(scores, score) - 1, 0), len(scores) - 2)
        fraction = (score - scores[i]) / (scores[i + 1] - scores[i])
        return ys[i] + fraction * (ys[i + 1] - ys[i])


def _fit_heights(spans: list[float]) -> list[float]:
    """Pixel heights for score spans filling PANEL_HEIGHT, none under MIN_BAND_HEIGHT when the
    panel has room for that; the rest share what is left in proportion to their spans."""
    if len(spans) * MIN_BAND_HEIGHT > PANEL_HEIGHT:
        return [span / sum(spans) * PANEL_HEIGHT for span in spans]
    pinned: set[int] = set()
    while True:
        free = [i for i in range(len(spans)) if i not in pinned]
        room = PANEL_HEIGHT - len(pinned) * MIN_BAND_HEIGHT
        total = sum(spans[i] for i in free)
        heights = [
            MIN_BAND_HEIGHT if i in pinned else spans[i] / total * room for i in range(len(spans))
        ]
        thin = {i for i in free if heights[i] < MIN_BAND_HEIGHT}
        if not thin:
            return heights
        pinned |= thin


def render_withdrawal_trend_svg(
    *,
    series: Sequence[TrendSeries],
    last_use_at: datetime | None,
    title: str,
    zone: tzinfo = UTC,
) -> str:
    """Render one panel per series (in the given order) on a shared time axis shown in `zone`.

    Times must be timezone-aware. The time axis spans every point and `last_use_at`, padded a
    little (±12 h when there is a single moment); with no moments at all it has no ticks.
    """
    moments = _moments(series, last_use_at)
    time_axis = _time_axis(moments, zone)
    panels_bottom = TOP + len(series) * PANEL_HEIGHT + max(len(series) - 1, 0) * PANEL_GAP
    height = panels_bottom + AXIS_HEIGHT + CAPTION_HEIGHT
    root = ET.Element("svg", {"xmlns": SVG_NS, "width": str(WIDTH), "height": str(height)})
    root.set("viewBox", f"0 0 {WIDTH} {height}")
    _el(root, "style", {}, STYLESHEET)
    _el(root, "rect", {"width": WIDTH, "height": height, "fill": "#ffffff"})
    _el(root, "text", {"x": PLOT_LEFT, "y": 30, "class": "title"}, title)
    for index, one in enumerate(series):
        top = TOP + index * (PANEL_HEIGHT + PANEL_GAP)
        extents = tuple(_band_extent(band, one.max_score) for band in one.bands)
        _draw_panel(root, one, _ScoreAxis(top, one.max_score, extents), time_axis)
    if time_axis is not None:
        _draw_time_labels(root, time_axis, panels_bottom)
    if time_axis is not None and last_use_at is not None and series:
        _draw_last_use(root, time_axis.x(last_use_at), panels_bottom)
    _el(root, "text", {"x": PLOT_LEFT, "y": height - 12, "class": "caption"}, CAPTION)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def zone_name(zone: tzinfo) -> str:
    """How the chart names a time zone: its IANA key, or `UTC`, or a fixed offset."""
    return getattr(zone, "key", None) or str(zone)


def _moments(series: Sequence[TrendSeries], last_use_at: datetime | None) -> list[datetime]:
    moments = [point.at for one in series for point in one.points]
    if last_use_at is not None:
        moments.append(last_use_at)
    if any(moment.utcoffset() is None for moment in moments):
        raise ValueError("Withdrawal trend times must be timezone-aware.")
    return moments


def _time_axis(moments: list[datetime], zone: tzinfo) -> _TimeAxis | None:
    if not moments:
        return None
    start, end = min(moments), max(moments)
    pad = (end - start) * EDGE_PAD_FRACTION if end > start else SINGLE_MOMENT_PAD
    return _TimeAxis(start - pad, end + pad, zone)


def _draw_panel(
    root: ET.Element, series: TrendSeries, axis: _ScoreAxis, time_axis: _TimeAxis | None
) -> None:
    panel = _el(root, "g", {"class": "panel", "data-instrument": series.instrument})
    _draw_bands(panel, series, axis)
    _draw_score_ticks(panel, series, axis)
    if time_axis is not None:
        for tick in _time_ticks(time_axis):
            x = time_axis.x(tick)
            _line(panel, (x, axis.top), (x, axis.bottom), "grid")
    frame = {"x": PLOT_LEFT, "y": axis.top, "width": PLOT_RIGHT - PLOT_LEFT}
    _el(panel, "rect", {**frame, "height": PANEL_HEIGHT, "class": "frame"})
    points = sorted(series.points, key=lambda point: point.at)
    if time_axis is None or not points:
        middle = {"x": (PLOT_LEFT + PLOT_RIGHT) / 2, "y": axis.top + PANEL_HEIGHT / 2}
        _el(panel, "text", {**middle, "class": "empty"}, EMPTY_TEXT)
        return
    _draw_scores(panel, series.label, points, axis, time_axis)


def _draw_bands(panel: ET.Element, series: TrendSeries, axis: _ScoreAxis) -> None:
    """Shade each band; it reaches half a point past its integer ends so neighbours meet and a
    score on a boundary sits visibly inside its own band."""
    extents = [_band_extent(band, series.max_score) for band in series.bands]
    centres = [(axis.y(low) + axis.y(high)) / 2 for low, high in extents]
    label_ys = _spread_labels(centres, axis.top, axis.bottom)
    for band, (low, high), label_y in zip(series.bands, extents, label_ys, strict=True):
        severity = str(band["severity"])
        colour = BAND_COLOURS.get(severity, UNKNOWN_BAND_COLOUR)
        top, bottom = axis.y(high), axis.y(low)
        shape = {"x": PLOT_LEFT, "y": top, "width": PLOT_RIGHT - PLOT_LEFT, "height": bottom - top}
        _el(panel, "rect", {**shape, "fill": colour, "class": "band", "data-severity": severity})
        label = {"x": PLOT_RIGHT + 6, "y": label_y, "class": "band-label"}
        _el(panel, "text", label, severity.replace("_", " "))


def _band_extent(band: Mapping, max_score: int) -> tuple[float, float]:
    high = band.get("high")
    top = max_score if high is None else min(high + 0.5, max_score)
    return band["low"] - 0.5, top


def _spread_labels(centres: list[float], top: float, bottom: float) -> list[float]:
    """Nudge band labels apart should bands ever be thinner than a line of text."""
    order = sorted(range(len(centres)), key=lambda i: -centres[i])  # bottom of the panel first
    placed: dict[int, float] = {}
    previous = bottom + BAND_LABEL_SPACING / 2
    for i in order:
        placed[i] = min(centres[i], previous - BAND_LABEL_SPACING)
        previous = placed[i]
    overflow = top - min(placed.values(), default=top)
    if overflow > 0:
        placed = {i: y + overflow for i, y in placed.items()}
    return [placed[i] for i in range(len(centres))]


def _draw_score_ticks(panel: ET.Element, series: TrendSeries, axis: _ScoreAxis) -> None:
    for score in _score_ticks(series.max_score):
        y = axis.y(score)
        _line(panel, (PLOT_LEFT - 4, y), (PLOT_LEFT, y), "tick")
        _el(panel, "text", {"x": PLOT_LEFT - 7, "y": y, "class": "y-tick"}, str(score))
    x, y = 20, axis.top + PANEL_HEIGHT / 2
    rotate = f"rotate(-90 {x} {_num(y)})"
    label = {"x": x, "y": y, "transform": rotate, "class": "panel-label"}
    _el(panel, "text", label, f"{series.label} total")


def _score_ticks(max_score: int) -> list[int]:
    fitting = [step for step in SCORE_STEPS if max_score / step <= MAX_INTERVALS]
    dividing = [step for step in fitting if max_score % step == 0]
    step = (dividing or fitting or [math.ceil(max_score / MAX_INTERVALS)])[0]
    return list(range(0, max_score + 1, step))


def _draw_scores(
    panel: ET.Element, label: str, points: list[SeriesPoint], axis: _ScoreAxis, time_axis: _TimeAxis
) -> None:
    coords = [(time_axis.x(point.at), axis.y(point.total_score)) for point in points]
    if len(coords) > 1:
        line = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        _el(panel, "polyline", {"points": line, "class": "trend"})
    for point, (x, y) in zip(points, coords, strict=True):
        attrs = {"cx": x, "cy": y, "r": 4.5, "class": "point", "data-score": point.total_score}
        circle = _el(panel, "circle", {**attrs, "data-severity": point.severity})
        _el(circle, "title", {}, point_title(label, point, time_axis.zone))


def point_title(label: str, point: SeriesPoint, zone: tzinfo) -> str:
    """The hover text of one point: `COWS 28, moderately severe, 2024-11-24 06:00 UTC`."""
    local = point.at.astimezone(zone)
    when = f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone_name(zone)}"
    return f"{label} {point.total_score}, {point.severity.replace('_', ' ')}, {when}"


def _time_step(axis: _TimeAxis) -> timedelta:
    span_hours = (axis.end - axis.start) / timedelta(hours=1)
    fitting = [hours for hours in TIME_STEPS_HOURS if span_hours / hours <= MAX_INTERVALS]
    return timedelta(hours=fitting[0] if fitting else math.ceil(span_hours / MAX_INTERVALS))


def _time_ticks(axis: _TimeAxis) -> list[datetime]:
    """Ticks on whole multiples of a step on the wall clock of the axis's zone (local midnights
    for steps of a day or more), chosen so that at most MAX_INTERVALS labels fit."""
    step = _time_step(axis)
    first = axis.start.astimezone(axis.zone).replace(tzinfo=None)
    if step >= timedelta(days=1):
        days = step // timedelta(days=1)
        ordinal = -(-first.date().toordinal() // days) * days  # the next multiple of the step
        wall = datetime.combine(date.fromordinal(max(ordinal, 1)), time())
        if wall < first:
            wall += step
    else:
        midnight = datetime.combine(first.date(), time())
        wall = midnight + math.ceil((first - midnight) / step) * step
    ticks = []
    while True:
        tick = wall.replace(tzinfo=axis.zone).astimezone(UTC)
        if tick > axis.end:
            return ticks
        # A wall-clock time skipped by a daylight-saving change does not round-trip: no tick.
        exists = tick.astimezone(axis.zone).replace(tzinfo=None) == wall
        if exists and tick >= axis.start:
            ticks.append(tick)
        wall += step


def _tick_label(tick: datetime, axis: _TimeAxis) -> str:
    """`Nov 24` for ticks a day or more apart, `Nov 24 06:00` closer; the year is added when the
    axis crosses one. A fixed month table rather than %b keeps the output locale-independent."""
    local = tick.astimezone(axis.zone)
    label = f"{MONTHS[local.month - 1]} {local.day:02d}"
    if axis.start.astimezone(axis.zone).year != axis.end.astimezone(axis.zone).year:
        label += f" {local.year}"
    return label if _time_step(axis) >= timedelta(days=1) else f"{label} {local:%H:%M}"


def _draw_time_labels(root: ET.Element, axis: _TimeAxis, panels_bottom: float) -> None:
    for tick in _time_ticks(axis):
        x = axis.x(tick)
        _line(root, (x, panels_bottom), (x, panels_bottom + 4), "tick")
        label = {"x": x, "y": panels_bottom + 18, "class": "x-tick"}
        _el(root, "text", label, _tick_label(tick, axis))
    title = {"x": (PLOT_LEFT + PLOT_RIGHT) / 2, "y": panels_bottom + 38, "class": "x-title"}
    _el(root, "text", title, f"Date and time ({zone_name(axis.zone)})")


def _draw_last_use(root: ET.Element, x: float, panels_bottom: float) -> None:
    _line(root, (x, TOP - 4), (x, panels_bottom), "last-use")
    _el(root, "text", {"x": x, "y": TOP - 9, "class": "last-use-label"}, "Last use")


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _line(
    parent: ET.Element, start: tuple[float, float], end: tuple[float, float], css_class: str
) -> None:
    coords = {"x1": start[0], "y1": start[1], "x2": end[0], "y2": end[1]}
    _el(parent, "line", {**coords, "class": css_class})


def _el(
    parent: ET.Element, tag: str, attrs: Mapping[str, object], text: str | None = None
) -> ET.Element:
    values = {
        key: _num(value) if isinstance(value, float) else str(value) for key, value in attrs.items()
    }
    element = ET.SubElement(parent, tag, values)
    if text is not None:
        element.text = _XML_ILLEGAL.sub("", text)
    return element
