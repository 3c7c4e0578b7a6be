"""Reference fields that only accept objects the requesting user may see, and the date-time
field every serializer uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from caseload.dates import PAST_DATE, PAST_DATETIME, PLAUSIBLE_DATE, PLAUSIBLE_DATETIME, DateRule
from caseload.models import Staff
from caseload.permissions import patients_visible_to

_ZERO = timedelta(0)


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time field with the same output, written without its per-value cost.

    DRF looks the current time zone up for every value it writes (a context-local read) and
    converts each value into it; on a 500-row page that was a fifth of the worker's time. This
    field looks the zone up once per serializer (a list's rows share one field) and writes a
    UTC value, as the database returns it, with `isoformat` directly: `2026-01-02T03:04:05Z`,
    with microseconds when there are any, exactly as DRF writes it. Anything else (another
    zone, a naive value, a custom format) goes through DRF's own code.
    """

    def to_representation(self, value):
        if not value or isinstance(value, str) or value.tzinfo is None or not self._iso_utc():
            return super().to_representation(value)
        if value.utcoffset() != _ZERO:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                return super().to_representation(value)
        return value.replace(tzinfo=None).isoformat() + "Z"

    def _iso_utc(self) -> bool:
        """True when this field writes ISO 8601 in UTC (the project's setting), looked up once."""
        try:
            return self._writes_iso_utc
        except AttributeError:
            zone = self.timezone if hasattr(self, "timezone") else self.default_timezone()
            iso = getattr(self, "format", api_settings.DATETIME_FORMAT)
            utc = zone is UTC or getattr(zone, "key", None) == "UTC"
            self._writes_iso_utc = bool(iso and iso.lower() == ISO_8601 and utc)
            return self._writes_iso_utc


# Every model date-time a ModelSerializer maps writes through the field above.
serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = DateTimeField


class VisiblePatientField(serializers.PrimaryKeyRelatedField):
    """A patient id; a patient of another program or off the caseload reads as nonexistent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return patients_visible_to(self.context["request"].user)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: a string, a boolean or a fraction is refused (`invalid`), not coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class VisibleEnrollmentField(serializers.PrimaryKeyRelatedField):
    """An enrollment id; one the requesting user may not see reads as nonexistent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        from caseload.selectors.records import enrollment_list

        return enrollment_list(user=self.context["request"].user).select_related("patient")


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
