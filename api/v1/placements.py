"""Level-of-care placements: the six dimension ratings and the level recommended and given."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from caseload.models import DIMENSIONS, HIGHEST_RATING, AsamLevel, Placement
from caseload.selectors.records import placement_list
from caseload.services.placements import (
    placement_mark_entered_in_error,
    placement_problems,
    placement_record,
)

from .base import APPEND_ONLY_METHODS, CORRECTION_FIELDS, RECORD_META, RecordViewSet
from .corrections import EnteredInErrorMixin
from .fields import (
    DateTimeField,
    StrictIntegerField,
    VisibleEnrollmentField,
    validate_past_datetime,
)
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin

_LEVEL_HELP = (
    "An ASAM level-of-care code: 0.5, OTP, 1, 2.1, 2.5, 3.1, 3.3, 3.5, 3.7, 4, or a withdrawal "
    "management level 1-WM, 2-WM, 3.2-WM, 3.7-WM, 4-WM."
)


def _rating(name: str) -> serializers.IntegerField:
    """An ASAM dimension's risk rating, 0 (none) to 4 (utmost severity)."""
    return StrictIntegerField(
        min_value=0,
        max_value=HIGHEST_RATING,
        help_text=f"Risk rating 0-4: {Placement._meta.get_field(name).help_text}",
    )


class PlacementSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    enrollment = VisibleEnrollmentField()
    assessed_at = DateTimeField(validators=[validate_past_datetime])
    dimension_1 = _rating("dimension_1")
    dimension_2 = _rating("dimension_2")
    dimension_3 = _rating("dimension_3")
    dimension_4 = _rating("dimension_4")
    dimension_5 = _rating("dimension_5")
    dimension_6 = _rating("dimension_6")
    recommended_level = serializers.ChoiceField(choices=AsamLevel.choices, help_text=_LEVEL_HELP)
    actual_level = serializers.ChoiceField(choices=AsamLevel.choices, help_text=_LEVEL_HELP)
    reason_for_difference = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Required when `actual_level` differs from `recommended_level` (e.g. not "
        "available, patient preference, payer).",
    )

    class Meta:
        model = Placement
        fields = (
            "id",
            "patient",
            "enrollment",
            "assessed_at",
            *DIMENSIONS,
            "recommended_level",
            "actual_level",
            "reason_for_difference",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )
        read_only_fields = ("id", "patient", *CORRECTION_FIELDS, *RECORD_META)

    def domain_problems(self, values, failed):
        if {"recommended_level", "actual_level", "reason_for_difference"} & failed:
            return []
        return placement_problems(values)


class PlacementFilter(PatientRecordFilter):
    enrollment = django_filters.UUIDFilter()

    class Meta:
        model = Placement
        fields = ("patient", "enrollment", "status")


class PlacementViewSet(EnteredInErrorMixin, RecordViewSet):
    """Level-of-care placements. Never edited; corrected by entered-in-error. The enrollment's
    `asam_level` follows its latest standing placement, and `level_of_care` from that."""

    model = Placement
    selector = staticmethod(placement_list)
    serializer_class = PlacementSerializer
    filterset_class = PlacementFilter
    http_method_names = APPEND_ONLY_METHODS
    mark_entered_in_error = staticmethod(placement_mark_entered_in_error)

    def create_record(self, *, actor, data):
        enrollment = data.pop("enrollment")
        return placement_record(actor=actor, enrollment=enrollment, fields=data)
