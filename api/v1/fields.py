"""Reference fields that only accept objects the requesting user may see."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from caseload.models import Staff
from caseload.permissions import patients_visible_to

EARLIEST_DATE = date(1900, 1, 1)
# Clock skew tolerated between a client and the server for "not in the future" checks.
CLOCK_SKEW = timedelta(minutes=5)


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


def validate_past_date(value: date) -> date:
    if value < EARLIEST_DATE or value > timezone.localdate():
        raise serializers.ValidationError(
            "Date must be between 1900-01-01 and today.", code="out_of_range"
        )
    return value


def validate_past_datetime(value: datetime) -> datetime:
    if value.date() < EARLIEST_DATE or value > timezone.now() + CLOCK_SKEW:
        raise serializers.ValidationError(
            "Time must be after 1900 and not in the future.", code="out_of_range"
        )
    return value


def validate_plausible_datetime(value: datetime) -> datetime:
    """Scheduling times: within a hundred years either side of today."""
    now = timezone.now()
    if abs(value - now) > timedelta(days=365 * 100):
        raise serializers.ValidationError("Time is out of range.", code="out_of_range")
    return value


def validate_plausible_date(value: date) -> date:
    if value < EARLIEST_DATE or value > timezone.localdate() + timedelta(days=366):
        raise serializers.ValidationError("Date is out of range.", code="out_of_range")
    return value


def _plausible_filter_value(value: datetime) -> None:
    if value is not None and abs(value - timezone.now()) > timedelta(days=365 * 100):
        raise DjangoValidationError("Time is out of range.", code="out_of_range")


class PlausibleDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 filter that refuses times a database cannot store (400, not a crash)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [_plausible_filter_value])
        super().__init__(*args, **kwargs)
