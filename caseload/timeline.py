"""Expected withdrawal phase, derived from the recorded time of last opioid use.

This is the general course in docs/clinical-reference.md (section 2), not a clinical finding:
individuals vary, and tapering rather than stopping suddenly usually means milder symptoms. Show
it with ``EXPECTED_COURSE_LABEL``.
"""

from datetime import datetime, timedelta

PHASES = ("pre_onset", "onset", "peak", "acute", "protracted")
EXPECTED_COURSE_LABEL = (
    "Expected course after last opioid use; individuals vary. Not a clinical finding."
)

# Boundaries from docs/clinical-reference.md, section 2 "Withdrawal timeline" (general course;
# individuals vary): symptoms are not expected before 6 h, mild symptoms begin at 6-12 h, they
# peak on days 1-3, acute symptoms can persist to about day 10, and week 2 onwards is protracted.
ONSET_STARTS_AFTER = timedelta(hours=6)
PEAK_STARTS_AFTER = timedelta(hours=24)
ACUTE_STARTS_AFTER = timedelta(hours=72)
PROTRACTED_STARTS_AFTER = timedelta(days=10)

# (phase, elapsed time at which it starts), latest first.
_PHASE_STARTS: tuple[tuple[str, timedelta], ...] = (
    ("protracted", PROTRACTED_STARTS_AFTER),
    ("acute", ACUTE_STARTS_AFTER),
    ("peak", PEAK_STARTS_AFTER),
    ("onset", ONSET_STARTS_AFTER),
    ("pre_onset", timedelta(0)),
)


def withdrawal_phase(last_use_at: datetime | None, now: datetime) -> str | None:
    """The expected phase at ``now``, or None without a last use or when it lies in the future.

    Both datetimes must be timezone-aware (``ValueError`` otherwise).
    """
    _require_aware(now, "now")
    if last_use_at is None:
        return None
    _require_aware(last_use_at, "last_use_at")
    elapsed = now - last_use_at
    for phase, starts_after in _PHASE_STARTS:
        if elapsed >= starts_after:
            return phase
    return None  # last use lies in the future: not a phase


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
