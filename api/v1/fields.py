"""Reference fields that only accept objects the requesting user may see."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from caseload.dates import PAST_DATE, PAST_DATETIME, PLAUSIBLE_DATE, PLAUSIBLE_DATETIME, DateRule
from caseload.models import Staff
from caseload.permissions import patients_visible_to


class VisiblePatientField(serializers.PrimaryKeyRelatedField):
    """A patient id; a patient of another program or off the caseload reads as nonexistent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return patients_visible_to(self.context["request"].user)


class ProgramStaffField(serializers.PrimaryKeyRelatedField):
    """A staff member of the requesting user's program."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return Staff.objects.filter(
            program_id=self.context["request"].user.program_id, is_active=True
        )


def _validator(rule: DateRule):
    """A serializer validator asking the domain's date rule, so the API reports it together
    with the other field errors; the services check the same rule on every write."""

    def validate(value):
        message = rule.problem(value)
        if message:
            raise serializers.ValidationError(message, code="out_of_range")
        return value

    return validate


validate_past_date = _validator(PAST_DATE)
validate_past_datetime = _validator(PAST_DATETIME)
validate_plausible_date = _validator(PLAUSIBLE_DATE)
validate_plausible_datetime = _validator(PLAUSIBLE_DATETIME)


def _plausible_filter_value(value: datetime) -> None:
    message = PLAUSIBLE_DATETIME.problem(value)
    if message:
        raise DjangoValidationError(message, code="out_of_range")


class PlausibleDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 filter that refuses times a database cannot store (400, not a crash)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [_plausible_filter_value])
        super().__init__(*args, **kwargs)
