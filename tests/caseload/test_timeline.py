"""The expected withdrawal phase after the last opioid use.

The general course in docs/clinical-reference.md, section 2.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.timeline import EXPECTED_COURSE_LABEL, PHASES, withdrawal_phase

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
JUST = timedelta(microseconds=1)


def test_it_lists_phases_in_course_order() -> None:
    assert PHASES == ("pre_onset", "onset", "peak", "acute", "protracted")


def test_it_labels_the_phase_as_an_expected_course_not_a_finding() -> None:
    assert EXPECTED_COURSE_LABEL == (
        "Expected course after last opioid use; individuals vary. Not a clinical finding."
    )


@pytest.mark.parametrize(
    ("elapsed", "phase"),
    [
        (timedelta(0), "pre_onset"),
        (timedelta(hours=6) - JUST, "pre_onset"),
        (timedelta(hours=6), "onset"),
        (timedelta(hours=24) - JUST, "onset"),
        (timedelta(hours=24), "peak"),
        (timedelta(hours=72) - JUST, "peak"),
        (timedelta(hours=72), "acute"),
        (timedelta(days=10) - JUST, "acute"),
        (timedelta(days=10), "protracted"),
        (timedelta(days=400), "protracted"),
    ],
)
def test_phase_changes_exactly_at_each_boundary(elapsed: timedelta, phase: str) -> None:
    assert withdrawal_phase(NOW - elapsed, NOW) == phase


def test_it_has_no_phase_without_a_last_use() -> None:
    assert withdrawal_phase(None, NOW) is None


@pytest.mark.parametrize("ahead", [JUST, timedelta(hours=7), timedelta(days=30)])
def test_it_has_no_phase_when_last_use_is_in_the_future(ahead: timedelta) -> None:
    assert withdrawal_phase(NOW + ahead, NOW) is None


def test_it_measures_elapsed_time_between_instants_not_wall_clocks() -> None:
    # 08:00 at UTC+2 is 06:00 UTC: 6 h before NOW, although the wall clocks differ by 4 h.
    last_use = datetime(2025, 3, 10, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    assert withdrawal_phase(last_use, NOW) == "onset"
    assert withdrawal_phase(last_use + JUST, NOW) == "pre_onset"


@pytest.mark.parametrize(
    ("last_use_at", "now"),
    [
        (datetime(2025, 3, 10, 1, 0), NOW),  # noqa: DTZ001 - naive on purpose
        (NOW - timedelta(hours=1), datetime(2025, 3, 10, 12, 0)),  # noqa: DTZ001
        (None, datetime(2025, 3, 10, 12, 0)),  # noqa: DTZ001
    ],
)
def test_it_rejects_naive_datetimes(last_use_at: datetime | None, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        withdrawal_phase(last_use_at, now)


@given(
    earlier=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
)
def test_phase_never_goes_backwards_as_time_passes(earlier: timedelta, later: timedelta) -> None:
    earlier, later = sorted((earlier, later))
    first = withdrawal_phase(NOW - earlier, NOW)
    second = withdrawal_phase(NOW - later, NOW)
    assert first in PHASES
    assert second in PHASES
    assert PHASES.index(first) <= PHASES.index(second)
