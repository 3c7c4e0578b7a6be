"""The clinical reference tables the tests check the code against, held once.

Everything here is transcribed by hand from docs/clinical-reference.md (the clinical reference),
independently of caseload/instruments.py, and must never be imported from (or derived from)
the code under test: a wrong item, allowed value set, band or sign in the implementation then
fails the tests instead of passing by being compared with itself.
"""

# --- COWS: Clinical Opiate Withdrawal Scale (Wesson & Ling, 2003) --------------------------

# The legal answers per item, in docs/clinical-reference.md order (the sets have gaps:
# restlessness is never 2).
COWS_ALLOWED = {
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
COWS_BANDS = (
    {"severity": "none", "low": 0, "high": 4},
    {"severity": "mild", "low": 5, "high": 12},
    {"severity": "moderate", "low": 13, "high": 24},
    {"severity": "moderately_severe", "low": 25, "high": 36},
    {"severity": "severe", "low": 37, "high": 48},
)
# (total, severity) at both sides of every band boundary, plus the ends of the scale.
COWS_BOUNDARIES = (
    (0, "none"),
    (4, "none"),
    (5, "mild"),
    (12, "mild"),
    (13, "moderate"),
    (24, "moderate"),
    (25, "moderately_severe"),
    (36, "moderately_severe"),
    (37, "severe"),
    (48, "severe"),
)

# --- SOWS: Subjective Opiate Withdrawal Scale (Handelsman et al., 1987) --------------------

# Sixteen items, each answered 0-4, in docs/clinical-reference.md order.
SOWS_KEYS = (
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
# The default (settings) bands: the program's interpretation, unverified against the paper.
SOWS_BANDS = (
    {"severity": "none", "low": 0, "high": 0},
    {"severity": "mild", "low": 1, "high": 10},
    {"severity": "moderate", "low": 11, "high": 20},
    {"severity": "severe", "low": 21, "high": 64},
)

# --- Withdrawal checklist (DSM-5 opioid withdrawal, criterion B) ---------------------------

CHECKLIST_SIGNS = (
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
# These three signs together count as ONE of the nine DSM-5 criteria.
ONE_CRITERION_SIGNS = ("dilated_pupils", "piloerection", "sweating")
SEPARATE_SIGNS = tuple(sign for sign in CHECKLIST_SIGNS if sign not in ONE_CRITERION_SIGNS)

ALL_KEYS = {"cows": tuple(COWS_ALLOWED), "sows": SOWS_KEYS, "withdrawal_checklist": CHECKLIST_SIGNS}


# --- helpers building legal answers from the tables above ----------------------------------


def cows_items(total: int) -> dict[str, int]:
    """A legal COWS answer set summing to ``total`` (0-48), keys in the reference's order."""

    def fill(keys: tuple[str, ...], remaining: int) -> dict[str, int] | None:
        if not keys:
            return {} if remaining == 0 else None
        if remaining > sum(max(COWS_ALLOWED[key]) for key in keys):
            return None
        for value in sorted(COWS_ALLOWED[keys[0]], reverse=True):
            if value <= remaining and (rest := fill(keys[1:], remaining - value)) is not None:
                return {keys[0]: value, **rest}
        return None

    items = fill(tuple(COWS_ALLOWED), total)
    assert items is not None, f"could not build a COWS total of {total}"
    return items


def sows_items(total: int) -> dict[str, int]:
    """A legal SOWS answer set summing to ``total``."""
    items, remaining = {}, total
    for key in SOWS_KEYS:
        items[key] = min(4, remaining)
        remaining -= items[key]
    assert remaining == 0, f"could not build a SOWS total of {total}"
    return items


def checklist_items(*present: str) -> dict[str, bool]:
    """Every checklist sign, true for those in ``present`` (no arguments: all signs false)."""
    unknown = set(present) - set(CHECKLIST_SIGNS)
    assert not unknown, f"not checklist signs: {sorted(unknown)}"
    return {sign: sign in present for sign in CHECKLIST_SIGNS}


def band_of(total: int, bands: tuple[dict, ...]) -> str:
    """The severity of the one band that holds ``total``."""
    (match,) = [band["severity"] for band in bands if band["low"] <= total <= band["high"]]
    return match
