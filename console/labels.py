"""How the console names the instruments' items and answers.

The wording is docs/clinical-reference.md's; only the resting pulse and the SOWS carry answer
words there, so every other answer is shown as its score.
"""

from __future__ import annotations

ITEM_LABELS = {
    "cows": {
        "resting_pulse": "Resting pulse rate",
        "sweating": "Sweating over the past half hour",
        "restlessness": "Restlessness during the assessment",
        "pupil_size": "Pupil size",
        "bone_joint_aches": "Bone or joint aches",
        "runny_nose_tearing": "Runny nose or tearing",
        "gi_upset": "GI upset over the past half hour",
        "tremor": "Tremor of outstretched hands",
        "yawning": "Yawning during the assessment",
        "anxiety_irritability": "Anxiety or irritability",
        "gooseflesh": "Gooseflesh skin",
    },
    "withdrawal_checklist": {"mood_changes": "Mood changes (dysphoric mood)"},
}
ANSWER_LABELS = {
    ("cows", "resting_pulse"): {0: "80 or below", 1: "81 to 100", 2: "101 to 120", 4: "over 120"},
}
SOWS_ANSWERS = {0: "not at all", 1: "a little", 2: "moderately", 3: "quite a bit", 4: "extremely"}
INSTRUMENT_NAMES = {
    "cows": "COWS (Clinical Opiate Withdrawal Scale)",
    "sows": "SOWS (Subjective Opiate Withdrawal Scale)",
    "withdrawal_checklist": "Withdrawal checklist (DSM-5 criterion B signs)",
}
SHORT_NAMES = {"cows": "COWS", "sows": "SOWS", "withdrawal_checklist": "withdrawal checklist"}
SEVERITY_NAMES = {
    "none": "none",
    "mild": "mild",
    "moderate": "moderate",
    "moderately_severe": "moderately severe",
    "severe": "severe",
}
PHASE_NAMES = {
    "pre_onset": "before onset",
    "onset": "onset",
    "peak": "peak",
    "acute": "acute",
    "protracted": "protracted",
}


def item_label(instrument: str, key: str) -> str:
    named = ITEM_LABELS.get(instrument, {}).get(key)
    return named or key.replace("_", " ").capitalize()


def answer_label(instrument: str, key: str, value: int) -> str:
    words = ANSWER_LABELS.get((instrument, key), {}).get(value)
    if words is None and instrument == "sows":
        words = SOWS_ANSWERS.get(value)
    return f"{value}: {words}" if words else str(value)
