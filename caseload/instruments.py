"""Scoring of the three withdrawal instruments (COWS, SOWS, DSM-5 withdrawal checklist).

Pure domain code: the server computes every result from the raw item answers, and an invalid
answer set is rejected as a whole (every problem reported, never a partial total). Clinical
content comes from docs/clinical-reference.md only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

COWS = "cows"
SOWS = "sows"
WITHDRAWAL_CHECKLIST = "withdrawal_checklist"
INSTRUMENT_CODES: tuple[str, ...] = (COWS, SOWS, WITHDRAWAL_CHECKLIST)

ITEMS_KEY = "items"  # error key for problems with the items object as a whole

ErrorMap = dict[str, list[tuple[str, str]]]
Problem = tuple[str, str] | None


class Band(TypedDict):
    severity: str
    low: int
    high: int


# COWS (Wesson & Ling, 2003): item key -> allowed values. The sets have gaps on purpose.
_COWS_CHOICES: Mapping[str, tuple[int, ...]] = {
    "resting_pulse": (0, 1, 2, 4),
    "sweating": (0, 1, 2, 3, 4),
    "restlessness": (0, 1, 3, 5),
    "pupil_size": (0, 1, 2, 5),
    "bone_joint_aches": (0, 1, 2, 4),
    "runny_nose_tearing": (0, 1, 2, 4),
    "gi_upset": (0, 1, 2, 3, 5),
    "tremor": (0, 1, 2, 4),
    "yawning": (0, 1, 2, 4),
    "anxiety_irritability": (0, 1, 2, 4),
    "gooseflesh": (0, 3, 5),
}
_COWS_BANDS: tuple[tuple[str, int, int], ...] = (
    ("none", 0, 4),
    ("mild", 5, 12),
    ("moderate", 13, 24),
    ("moderately_severe", 25, 36),
    ("severe", 37, 48),
)

# SOWS (Handelsman et al., 1987): sixteen items in the published order, each rated 0-4.
_SOWS_KEYS: tuple[str, ...] = (
    "anxious",
    "yawning",
    "perspiring",
    "eyes_tearing",
    "nose_running",
    "goosebumps",
    "shaking",
    "hot_flushes",
    "cold_flushes",
    "bones_muscles_ache",
    "restless",
    "nauseous",
    "feel_like_vomiting",
    "muscles_twitch",
    "stomach_cramps",
    "feel_like_using",
)
_SOWS_CHOICES: Mapping[str, tuple[int, ...]] = dict.fromkeys(_SOWS_KEYS, (0, 1, 2, 3, 4))

# DSM-5 opioid withdrawal, criterion B: eleven signs as staff name them.
_CHECKLIST_SIGNS: tuple[str, ...] = (
    "fever",
    "nausea_vomiting",
    "diarrhea",
    "mood_changes",
    "trouble_sleeping",
    "body_muscle_aches",
    "runny_nose_tearing",
    "piloerection",
    "dilated_pupils",
    "sweating",
    "yawning",
)
# DSM-5 lists these three signs as a single criterion, so eleven signs make nine criteria.
_COMBINED_CRITERION_SIGNS = frozenset({"dilated_pupils", "piloerection", "sweating"})
_CRITERIA_THRESHOLD = 3

_MISSING: tuple[str, str] = ("missing_item", "This item is required.")


class ItemsError(ValueError):
    """Raised when an items object is invalid.

    ``errors`` maps the item key (or ``"items"`` for the object as a whole) to a list of
    ``(code, message)`` pairs. Codes: ``invalid_type``, ``missing_item``, ``unknown_item``,
    ``invalid_choice``.
    """

    def __init__(self, errors: ErrorMap) -> None:
        super().__init__("invalid items")
        self.errors = errors


@dataclass(frozen=True)
class Score:
    """The computed result of one assessment."""

    instrument: str
    instrument_version: str
    total_score: int | None
    severity: str | None
    criteria_met: int | None
    meets_withdrawal_criteria: bool | None
    bands: tuple[dict, ...]
    bands_label: str


@dataclass(frozen=True)
class _Scale:
    """A summed rating scale: item choices plus severity bands (read at call time)."""

    code: str
    version: str
    choices: Mapping[str, tuple[int, ...]]
    bands: Callable[[], tuple[Band, ...]]
    bands_label: Callable[[], str]


def _cows_bands() -> tuple[Band, ...]:
    return tuple({"severity": name, "low": low, "high": high} for name, low, high in _COWS_BANDS)


def _sows_bands() -> tuple[Band, ...]:
    # Copied so callers cannot mutate settings; read per call so settings overrides apply.
    return tuple(
        {"severity": band["severity"], "low": band["low"], "high": band["high"]}
        for band in settings.CASELOAD_SOWS_BANDS
    )


def _sows_bands_label() -> str:
    return str(settings.CASELOAD_SOWS_BANDS_LABEL)


_SCALES: Mapping[str, _Scale] = {
    COWS: _Scale(COWS, "COWS (Wesson & Ling 2003)", _COWS_CHOICES, _cows_bands, lambda: ""),
    SOWS: _Scale(
        SOWS, "SOWS 16-item (Handelsman 1987)", _SOWS_CHOICES, _sows_bands, _sows_bands_label
    ),
}
_CHECKLIST_VERSION = "DSM-5 opioid withdrawal criterion B"


def _unknown_instrument() -> ValueError:
    return ValueError("unknown instrument")


def item_keys(instrument: str) -> tuple[str, ...]:
    """The item keys of ``instrument``, in the order docs/clinical-reference.md lists them."""
    if instrument == WITHDRAWAL_CHECKLIST:
        return _CHECKLIST_SIGNS
    if instrument in _SCALES:
        return tuple(_SCALES[instrument].choices)
    raise _unknown_instrument()


def max_total(instrument: str) -> int:
    """The highest total a summed scale can reach (COWS 48, SOWS 64): the sum of each item's
    highest legal answer. For the checklist, the number of signs."""
    if instrument == WITHDRAWAL_CHECKLIST:
        return len(_CHECKLIST_SIGNS)
    if instrument in _SCALES:
        return sum(max(values) for values in _SCALES[instrument].choices.values())
    raise _unknown_instrument()


def describe(instrument: str) -> dict:
    """What a client needs to build a form for ``instrument``: items, legal answers, bands."""
    if instrument == WITHDRAWAL_CHECKLIST:
        return {
            "instrument": instrument,
            "instrument_version": _CHECKLIST_VERSION,
            "items": [{"key": key, "allowed": [False, True]} for key in _CHECKLIST_SIGNS],
            "combined_criterion": sorted(_COMBINED_CRITERION_SIGNS),
            "criteria_threshold": _CRITERIA_THRESHOLD,
            "bands": [],
            "bands_label": "",
        }
    scale = _SCALES.get(instrument)
    if scale is None:
        raise _unknown_instrument()
    return {
        "instrument": instrument,
        "instrument_version": scale.version,
        "items": [{"key": key, "allowed": list(values)} for key, values in scale.choices.items()],
        "bands": list(scale.bands()),
        "bands_label": scale.bands_label(),
    }


def allowed_values(instrument: str) -> dict[str, tuple[int, ...]]:
    """Legal answers per item of a summed scale (COWS, SOWS)."""
    if instrument in _SCALES:
        return dict(_SCALES[instrument].choices)
    raise _unknown_instrument()


def bands_for(instrument: str) -> tuple[dict, ...]:
    """Severity bands of ``instrument`` (``()`` for the checklist), fresh dicts on each call."""
    if instrument == WITHDRAWAL_CHECKLIST:
        return ()
    if instrument in _SCALES:
        return _SCALES[instrument].bands()
    raise _unknown_instrument()


def score(instrument: str, items: object) -> Score:
    """Validate ``items`` for ``instrument`` and compute the result.

    Raises ``ItemsError`` listing every problem, or ``ValueError("unknown instrument")``.
    """
    if instrument == WITHDRAWAL_CHECKLIST:
        return _score_checklist(items)
    if instrument in _SCALES:
        return _score_scale(_SCALES[instrument], items)
    raise _unknown_instrument()


def _score_scale(scale: _Scale, items: object) -> Score:
    answers = _validated(items, tuple(scale.choices), _choice_checker(scale.choices))
    total = sum(answers[key] for key in scale.choices)
    bands = scale.bands()
    return Score(
        instrument=scale.code,
        instrument_version=scale.version,
        total_score=total,
        severity=_severity(total, bands, scale.code),
        criteria_met=None,
        meets_withdrawal_criteria=None,
        bands=bands,
        bands_label=scale.bands_label(),
    )


def _score_checklist(items: object) -> Score:
    signs = _validated(items, _CHECKLIST_SIGNS, _bool_problem)
    criteria = [signs[key] for key in _CHECKLIST_SIGNS if key not in _COMBINED_CRITERION_SIGNS]
    criteria.append(any(signs[key] for key in _COMBINED_CRITERION_SIGNS))
    criteria_met = sum(criteria)  # nine criteria, each true or false
    return Score(
        instrument=WITHDRAWAL_CHECKLIST,
        instrument_version=_CHECKLIST_VERSION,
        total_score=None,
        severity=None,
        criteria_met=criteria_met,
        meets_withdrawal_criteria=criteria_met >= _CRITERIA_THRESHOLD,
        bands=(),
        bands_label="",
    )


def _severity(total: int, bands: tuple[Band, ...], instrument: str) -> str:
    for band in bands:
        if band["low"] <= total <= band["high"]:
            return band["severity"]
    raise ImproperlyConfigured(f"No {instrument} severity band covers a total of {total}.")


def _validated(
    items: object, keys: tuple[str, ...], problem_of: Callable[[str, object], Problem]
) -> dict:
    """Return ``items`` if every key is present, known and valid; otherwise raise all errors."""
    if not isinstance(items, dict):
        raise ItemsError({ITEMS_KEY: [("invalid_type", "Expected an object of item answers.")]})
    errors: ErrorMap = {}
    for key in keys:
        problem = problem_of(key, items[key]) if key in items else _MISSING
        if problem:
            errors.setdefault(key, []).append(problem)
    for key in items:
        if key not in keys:
            errors.setdefault(str(key), []).append(("unknown_item", "Unknown item."))
    if errors:
        raise ItemsError(errors)
    return items


def _choice_checker(choices: Mapping[str, tuple[int, ...]]) -> Callable[[str, object], Problem]:
    def problem_of(key: str, value: object) -> Problem:
        # bool is a subclass of int; a checkbox value is never a score.
        if isinstance(value, bool) or not isinstance(value, int):
            return ("invalid_type", "Expected an integer score.")
        if value not in choices[key]:
            allowed = ", ".join(str(choice) for choice in choices[key])
            return ("invalid_choice", f"Not an allowed value. Allowed values: {allowed}.")
        return None

    return problem_of


def _bool_problem(key: str, value: object) -> Problem:
    if not isinstance(value, bool):
        return ("invalid_type", "Expected true or false.")
    return None
