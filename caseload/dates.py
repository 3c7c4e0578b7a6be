"""Which dates and times a record may hold: the same rules for every caller.

Each rule names what a field means: something that already happened (a birth, a note, a
collected sample) cannot lie in the future, and nothing is dated before 1900 or absurdly far
ahead. `record_create` and `record_update` check them for every write, so a management command
or a task is held to the same rules as an HTTP request; serializers ask the same rules to report
them together with other field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from caseload.errors import InvalidInput

EARLIEST_DATE = date(1900, 1, 1)
# Clock skew tolerated between a client and the server for "not in the future" checks.
CLOCK_SKEW = timedelta(minutes=5)
PLANNING_HORIZON = timedelta(days=366)
SCHEDULING_SPAN = timedelta(days=365 * 100)


@dataclass(frozen=True)
class DateRule:
    message: str
    is_datetime: bool
    past_only: bool

    def problem(self, value: date | datetime | str | None) -> str | None:
        """The rule's message when `value` breaks it, else None."""
        if value is None:
            return None
        if isinstance(value, str):  # as a command or a task may pass it
            value = (parse_datetime if self.is_datetime else parse_date)(value)
            if value is None:
                return self.message
        if self.is_datetime:
            return self.message if not _datetime_ok(self, value) else None
        return self.message if not _date_ok(self, value) else None


def _date_ok(rule: DateRule, value: date) -> bool:
    today = timezone.localdate()
    latest = today if rule.past_only else today + PLANNING_HORIZON
    return EARLIEST_DATE <= value <= latest


def _datetime_ok(rule: DateRule, value: datetime) -> bool:
    now = timezone.now()
    if rule.past_only:
        return value.date() >= EARLIEST_DATE and value <= now + CLOCK_SKEW
    return abs(value - now) <= SCHEDULING_SPAN


PAST_DATE = DateRule("Date must be between 1900-01-01 and today.", False, True)
PAST_DATETIME = DateRule("Time must be after 1900 and not in the future.", True, True)
PLAUSIBLE_DATE = DateRule("Date is out of range.", False, False)
PLAUSIBLE_DATETIME = DateRule("Time is out of range.", True, False)

# model label -> field -> rule
_RULES: dict[str, dict[str, DateRule]] = {
    "caseload.patient": {"birth_date": PAST_DATE, "last_use_at": PAST_DATETIME},
    "caseload.casenote": {"written_at": PAST_DATETIME},
    "caseload.assessment": {"administered_at": PAST_DATETIME},
    "caseload.drugscreen": {"collected_at": PAST_DATETIME},
    "caseload.enrollment": {
        "admitted_on": PLAUSIBLE_DATE,
        "discharged_on": PLAUSIBLE_DATE,
        "treatment_consent_signed_at": PAST_DATETIME,
    },
    "caseload.medicationrecord": {"start_date": PLAUSIBLE_DATE, "end_date": PLAUSIBLE_DATE},
    "caseload.referral": {"referred_on": PLAUSIBLE_DATE},
    "caseload.placement": {"assessed_at": PAST_DATETIME},
    "caseload.treatmentplan": {"starts_on": PLAUSIBLE_DATE, "signed_by_patient_at": PAST_DATETIME},
    "caseload.appointment": {"start": PLAUSIBLE_DATETIME, "end": PLAUSIBLE_DATETIME},
}


def rules_for(model: type[models.Model]) -> Mapping[str, DateRule]:
    return _RULES.get(model._meta.label_lower, {})


def require_valid_dates(model: type[models.Model], values: Mapping[str, Any]) -> None:
    """Refuse, naming every field, any value in `values` that breaks its model's date rules."""
    problems = [
        (field, "out_of_range", message)
        for field, rule in rules_for(model).items()
        if field in values and (message := rule.problem(values[field]))
    ]
    if problems:
        raise InvalidInput(
            problems[0][2], field=problems[0][0], code="out_of_range", errors=problems
        )


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the one way Caseload writes a moment in any payload."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
