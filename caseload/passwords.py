"""Password rules beyond Django's own validators (AUTH_PASSWORD_VALIDATORS in config/settings).

Django refuses short, numeric, common and username-like passwords. A twelve-character minimum
alone still lets through `aaaaaaaaaaaa`, `qwertyuiopas` and `iloveyou1234`, which a guessing
attack tries first. These validators refuse:

- `VarietyValidator`: few distinct characters, or one character repeated in a long run;
- `SequenceValidator`: passwords made mostly of keyboard rows or alphabet and digit runs;
- `CommonStemValidator`: a common password with digits or symbols added around it, or with
  letters swapped for look-alike digits (Django's list of 20,000 common passwords).

Every path that sets a password runs them: `create_staff`, the admin's forms and Django's
`changepassword` (through `validate_password`).
"""

from __future__ import annotations

import re
from functools import cache

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!@#$%^&*()",
)
LOOK_ALIKES = str.maketrans(
    {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)


class VarietyValidator:
    """At least `min_distinct` different characters, and no character four times in a row."""

    def __init__(self, min_distinct: int = 6, max_run: int = 3):
        self.min_distinct = min_distinct
        self.max_run = max_run

    def validate(self, password: str, user=None) -> None:
        if len(set(password.lower())) < self.min_distinct:
            raise ValidationError(
                f"This password uses too few different characters (at least {self.min_distinct}).",
                code="password_too_repetitive",
            )
        if re.search(rf"(.)\1{{{self.max_run},}}", password):
            raise ValidationError(
                f"This password repeats a character more than {self.max_run} times in a row.",
                code="password_too_repetitive",
            )

    def get_help_text(self) -> str:
        return (
            f"Your password must use at least {self.min_distinct} different characters and not "
            f"repeat one more than {self.max_run} times in a row."
        )


class SequenceValidator:
    """Refuses a password that is mostly keyboard rows or runs of the alphabet and digits."""

    def __init__(self, min_run: int = 4, min_rest: int = 6):
        self.min_run = min_run
        self.min_rest = min_rest

    def validate(self, password: str, user=None) -> None:
        if len(_outside_sequences(password.lower(), self.min_run)) < self.min_rest:
            raise ValidationError(
                "This password is mostly a keyboard or alphabet sequence.",
                code="password_sequence",
            )

    def get_help_text(self) -> str:
        return "Your password can't be mostly a keyboard row or an alphabet or digit run."


class CommonStemValidator:
    """Refuses a common password dressed up: digits and symbols around it, look-alike digits."""

    def validate(self, password: str, user=None) -> None:
        lowered = password.lower()
        stem = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
        candidates = {stem, lowered.translate(LOOK_ALIKES), stem.translate(LOOK_ALIKES)}
        if any(len(c) >= 4 and c in _common_passwords() for c in candidates):
            raise ValidationError(
                "This password is a common password with a few characters added.",
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return "Your password can't be a common password with digits or symbols added."


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords)


def _outside_sequences(text: str, min_run: int) -> str:
    """`text` with every run of `min_run` or more characters that follows a sequence (either
    way) taken out."""
    keep = [True] * len(text)
    for sequence in SEQUENCES:
        for line in (sequence, sequence[::-1]):
            for length in range(len(line), min_run - 1, -1):
                for start in range(len(line) - length + 1):
                    piece = line[start : start + length]
                    for found in re.finditer(re.escape(piece), text):
                        for index in range(found.start(), found.end()):
                            keep[index] = False
    return "".join(ch for ch, kept in zip(text, keep, strict=True) if kept)
