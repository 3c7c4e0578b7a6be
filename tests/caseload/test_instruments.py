"""Scoring of COWS, SOWS and the DSM-5 withdrawal checklist.

The expected tables come from tests/domain_reference.py, the tests' own transcription of
docs/clinical-reference.md, so a wrong item, value set or band in the implementation fails here
rather than being compared with itself.
"""

from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from caseload.instruments import (
    INSTRUMENT_CODES,
    ItemsError,
    Score,
    bands_for,
    item_keys,
    score,
)
from tests.domain_reference import (
    ALL_KEYS,
    CHECKLIST_SIGNS,
    COWS_ALLOWED,
    COWS_BANDS,
    COWS_BOUNDARIES,
    ONE_CRITERION_SIGNS,
    SEPARATE_SIGNS,
    SOWS_BANDS,
    SOWS_KEYS,
    band_of,
    checklist_items,
    cows_items,
    sows_items,
)


def legal_items(instrument: str) -> dict[str, object]:
    if instrument == "cows":
        return cows_items(20)
    if instrument == "sows":
        return sows_items(20)
    return checklist_items("fever")


def assert_only_error(excinfo: pytest.ExceptionInfo[ItemsError], key: str, code: str) -> None:
    assert list(excinfo.value.errors) == [key]
    assert [error_code for error_code, _ in excinfo.value.errors[key]] == [code]


# --- public tables -------------------------------------------------------------------------


def test_it_lists_the_three_instrument_codes() -> None:
    assert INSTRUMENT_CODES == ("cows", "sows", "withdrawal_checklist")


@pytest.mark.parametrize("instrument", ["cows", "sows", "withdrawal_checklist"])
def test_it_lists_item_keys_in_domain_order(instrument: str) -> None:
    assert item_keys(instrument) == ALL_KEYS[instrument]


def test_it_gives_cows_bands_from_domain() -> None:
    assert bands_for("cows") == COWS_BANDS


def test_it_gives_sows_bands_from_settings() -> None:
    assert bands_for("sows") == SOWS_BANDS


def test_it_gives_no_bands_for_the_checklist() -> None:
    assert bands_for("withdrawal_checklist") == ()


def test_changing_returned_bands_does_not_change_later_scores() -> None:
    bands_for("cows")[0]["high"] = 40
    bands_for("sows")[0]["high"] = 40
    assert score("cows", cows_items(5)).severity == "mild"
    assert score("sows", sows_items(1)).severity == "mild"


@pytest.mark.parametrize("call", [item_keys, bands_for, lambda code: score(code, {})])
def test_it_rejects_an_unknown_instrument(call: Callable[[str], object]) -> None:
    with pytest.raises(ValueError, match="unknown instrument") as excinfo:
        call("ciwa")
    assert not isinstance(excinfo.value, ItemsError)


# --- COWS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "severity"),
    COWS_BOUNDARIES,
)
def test_cows_total_falls_in_its_band(total: int, severity: str) -> None:
    result = score("cows", cows_items(total))
    assert (result.total_score, result.severity) == (total, severity)


def test_cows_result_carries_version_and_bands_but_no_checklist_fields() -> None:
    assert score("cows", cows_items(7)) == Score(
        instrument="cows",
        instrument_version="COWS (Wesson & Ling 2003)",
        total_score=7,
        severity="mild",
        criteria_met=None,
        meets_withdrawal_criteria=None,
        bands=COWS_BANDS,
        bands_label="",
    )


def test_it_rejects_restlessness_score_of_two() -> None:
    with pytest.raises(ItemsError) as excinfo:
        score("cows", {**cows_items(0), "restlessness": 2})
    assert_only_error(excinfo, "restlessness", "invalid_choice")
    assert "0, 1, 3, 5" in excinfo.value.errors["restlessness"][0][1]


def test_it_rejects_gooseflesh_score_of_one() -> None:
    with pytest.raises(ItemsError) as excinfo:
        score("cows", {**cows_items(0), "gooseflesh": 1})
    assert_only_error(excinfo, "gooseflesh", "invalid_choice")
    assert "0, 3, 5" in excinfo.value.errors["gooseflesh"][0][1]


@given(items=st.fixed_dictionaries({k: st.sampled_from(v) for k, v in COWS_ALLOWED.items()}))
def test_every_legal_cows_combination_scores_in_range_and_band(items: dict[str, int]) -> None:
    result = score("cows", items)
    assert result.total_score == sum(items.values())
    assert 0 <= result.total_score <= 48
    assert result.severity == band_of(result.total_score, COWS_BANDS)


@given(data=st.data())
def test_every_illegal_cows_integer_is_rejected_naming_its_item(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(tuple(COWS_ALLOWED)))
    value = data.draw(st.integers().filter(lambda n: n not in COWS_ALLOWED[key]))
    with pytest.raises(ItemsError) as excinfo:
        score("cows", {**cows_items(0), key: value})
    assert_only_error(excinfo, key, "invalid_choice")


@pytest.mark.parametrize("key", tuple(COWS_ALLOWED))
@pytest.mark.parametrize("value", [-1, 6])
def test_it_rejects_cows_values_outside_zero_to_five(key: str, value: int) -> None:
    with pytest.raises(ItemsError) as excinfo:
        score("cows", {**cows_items(0), key: value})
    assert_only_error(excinfo, key, "invalid_choice")


# --- SOWS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "severity"),
    [(0, "none"), (1, "mild"), (10, "mild"), (11, "moderate"), (20, "moderate"), (21, "severe"),
     (64, "severe")],
)  # fmt: skip
def test_sows_total_falls_in_its_default_band(total: int, severity: str) -> None:
    result = score("sows", sows_items(total))
    assert (result.total_score, result.severity) == (total, severity)


def test_sows_result_carries_version_bands_and_label(settings: Settings) -> None:
    settings.CASELOAD_SOWS_BANDS_LABEL = "Our program's reading of SOWS."
    assert score("sows", sows_items(3)) == Score(
        instrument="sows",
        instrument_version="SOWS 16-item (Handelsman 1987)",
        total_score=3,
        severity="mild",
        criteria_met=None,
        meets_withdrawal_criteria=None,
        bands=SOWS_BANDS,
        bands_label="Our program's reading of SOWS.",
    )


def test_sows_bands_follow_settings_at_call_time(settings: Settings) -> None:
    settings.CASELOAD_SOWS_BANDS = [
        {"severity": "low", "low": 0, "high": 30},
        {"severity": "high", "low": 31, "high": 64},
    ]
    assert score("sows", sows_items(30)).severity == "low"
    assert score("sows", sows_items(31)).severity == "high"
    assert bands_for("sows") == tuple(settings.CASELOAD_SOWS_BANDS)


def test_sows_bands_leaving_a_total_uncovered_are_misconfigured(settings: Settings) -> None:
    settings.CASELOAD_SOWS_BANDS = [{"severity": "mild", "low": 1, "high": 64}]
    with pytest.raises(ImproperlyConfigured):
        score("sows", sows_items(0))


@given(items=st.fixed_dictionaries({k: st.integers(0, 4) for k in SOWS_KEYS}))
def test_every_legal_sows_combination_scores_in_range_and_band(items: dict[str, int]) -> None:
    result = score("sows", items)
    assert result.total_score == sum(items.values())
    assert 0 <= result.total_score <= 64
    assert result.severity == band_of(result.total_score, SOWS_BANDS)


@given(data=st.data())
def test_every_illegal_sows_integer_is_rejected_naming_its_item(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(SOWS_KEYS))
    value = data.draw(st.integers().filter(lambda n: not 0 <= n <= 4))
    with pytest.raises(ItemsError) as excinfo:
        score("sows", {**sows_items(0), key: value})
    assert_only_error(excinfo, key, "invalid_choice")
    assert "0, 1, 2, 3, 4" in excinfo.value.errors[key][0][1]


# --- withdrawal checklist ------------------------------------------------------------------


@pytest.mark.parametrize(
    "present",
    [
        ("dilated_pupils",),
        ("piloerection",),
        ("sweating",),
        ("dilated_pupils", "piloerection"),
        ("dilated_pupils", "piloerection", "sweating"),
    ],
)
def test_pupils_piloerection_and_sweating_count_as_one_criterion(present: tuple[str]) -> None:
    assert score("withdrawal_checklist", checklist_items(*present)).criteria_met == 1


def test_all_three_combined_signs_with_one_other_do_not_meet_criteria() -> None:
    result = score("withdrawal_checklist", checklist_items(*ONE_CRITERION_SIGNS, "fever"))
    assert (result.criteria_met, result.meets_withdrawal_criteria) == (2, False)


def test_two_criteria_do_not_meet_withdrawal_criteria() -> None:
    result = score("withdrawal_checklist", checklist_items("fever", "yawning"))
    assert (result.criteria_met, result.meets_withdrawal_criteria) == (2, False)


def test_three_criteria_meet_withdrawal_criteria() -> None:
    result = score("withdrawal_checklist", checklist_items("fever", "yawning", "sweating"))
    assert (result.criteria_met, result.meets_withdrawal_criteria) == (3, True)


def test_no_signs_meet_no_criteria() -> None:
    assert score("withdrawal_checklist", checklist_items()) == Score(
        instrument="withdrawal_checklist",
        instrument_version="DSM-5 opioid withdrawal criterion B",
        total_score=None,
        severity=None,
        criteria_met=0,
        meets_withdrawal_criteria=False,
        bands=(),
        bands_label="",
    )


def test_all_eleven_signs_meet_nine_criteria() -> None:
    result = score("withdrawal_checklist", checklist_items(*CHECKLIST_SIGNS))
    assert (result.criteria_met, result.meets_withdrawal_criteria) == (9, True)


@given(items=st.fixed_dictionaries({sign: st.booleans() for sign in CHECKLIST_SIGNS}))
def test_every_checklist_combination_counts_nine_criteria_at_most(items: dict[str, bool]) -> None:
    expected = sum(items[sign] for sign in SEPARATE_SIGNS)
    expected += any(items[sign] for sign in ONE_CRITERION_SIGNS)
    result = score("withdrawal_checklist", items)
    assert 0 <= result.criteria_met <= 9
    assert result.criteria_met == expected
    assert result.meets_withdrawal_criteria is (expected >= 3)
    assert (result.total_score, result.severity) == (None, None)


# --- validation shared by all instruments --------------------------------------------------

EVERY_ITEM = [(code, key) for code in INSTRUMENT_CODES for key in ALL_KEYS[code]]


@pytest.mark.parametrize(("instrument", "key"), EVERY_ITEM)
def test_it_rejects_a_missing_item_naming_it(instrument: str, key: str) -> None:
    items = legal_items(instrument)
    del items[key]
    with pytest.raises(ItemsError) as excinfo:
        score(instrument, items)
    assert_only_error(excinfo, key, "missing_item")


@pytest.mark.parametrize("instrument", INSTRUMENT_CODES)
def test_it_rejects_an_unknown_item_naming_it(instrument: str) -> None:
    with pytest.raises(ItemsError) as excinfo:
        score(instrument, {**legal_items(instrument), "total_score": 0})
    assert_only_error(excinfo, "total_score", "unknown_item")


@pytest.mark.parametrize("instrument", INSTRUMENT_CODES)
def test_it_rejects_an_empty_object_naming_every_item(instrument: str) -> None:
    with pytest.raises(ItemsError) as excinfo:
        score(instrument, {})
    assert excinfo.value.errors == {
        key: [("missing_item", "This item is required.")] for key in ALL_KEYS[instrument]
    }


@pytest.mark.parametrize("instrument", ["cows", "sows"])
@pytest.mark.parametrize("value", [True, False, 1.0, 0.0, "1", None, [1]])
def test_it_rejects_a_score_that_is_not_an_integer(instrument: str, value: object) -> None:
    key = ALL_KEYS[instrument][-1]
    with pytest.raises(ItemsError) as excinfo:
        score(instrument, {**legal_items(instrument), key: value})
    assert_only_error(excinfo, key, "invalid_type")


@pytest.mark.parametrize("value", [0, 1, "true", "false", None, 1.0])
def test_it_rejects_a_checklist_sign_that_is_not_a_boolean(value: object) -> None:
    with pytest.raises(ItemsError) as excinfo:
        score("withdrawal_checklist", {**checklist_items(), "sweating": value})
    assert_only_error(excinfo, "sweating", "invalid_type")


@pytest.mark.parametrize("instrument", INSTRUMENT_CODES)
@pytest.mark.parametrize("items", [None, [], "{}", 20, list(COWS_ALLOWED.items())])
def test_it_rejects_items_that_are_not_an_object(instrument: str, items: object) -> None:
    with pytest.raises(ItemsError) as excinfo:
        score(instrument, items)
    assert_only_error(excinfo, "items", "invalid_type")


def test_it_reports_every_problem_at_once() -> None:
    items = {**cows_items(0), "restlessness": 2, "tremor": "1", "mood": 0}
    del items["yawning"]
    with pytest.raises(ItemsError) as excinfo:
        score("cows", items)
    assert {key: [code for code, _ in errors] for key, errors in excinfo.value.errors.items()} == {
        "restlessness": ["invalid_choice"],
        "tremor": ["invalid_type"],
        "yawning": ["missing_item"],
        "mood": ["unknown_item"],
    }
