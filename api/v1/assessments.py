from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from caseload import instruments
from caseload.models import Assessment, Instrument
from caseload.selectors.records import assessment_list
from caseload.services.assessments import assessment_item_problems, assessment_record

from .base import APPEND_ONLY_METHODS, CORRECTION_FIELDS, RECORD_META, RecordViewSet
from .corrections import EnteredInErrorMixin
from .fields import (
    DateTimeField,
    PlausibleDateTimeFilter,
    VisiblePatientField,
    validate_past_datetime,
)
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


def _items_schema() -> dict:
    """One object shape per instrument, so clients can validate answers before sending them."""
    shapes = []
    for code in instruments.INSTRUMENT_CODES:
        described = instruments.describe(code)
        properties = {
            item["key"]: {"type": "boolean"}
            if code == instruments.WITHDRAWAL_CHECKLIST
            else {"type": "integer", "enum": item["allowed"]}
            for item in described["items"]
        }
        shapes.append(
            {
                "title": code,
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            }
        )
    return {"oneOf": shapes}


@extend_schema_field(_items_schema())
class ItemsField(serializers.JSONField):
    """Raw answers keyed by item; the server validates them per instrument and scores them."""


class AssessmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    items = ItemsField(
        help_text="Raw answers keyed by item (see /api/v1/instruments/); the server computes "
        "every result."
    )
    administered_at = DateTimeField(validators=[validate_past_datetime])
    severity = serializers.CharField(read_only=True, allow_null=True, source="severity_or_none")

    class Meta:
        model = Assessment
        fields = (
            "id",
            "patient",
            "instrument",
            "items",
            "administered_at",
            "administered_by",
            "total_score",
            "severity",
            "criteria_met",
            "meets_withdrawal_criteria",
            "instrument_version",
            "bands",
            "bands_label",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )
        read_only_fields = (
            "id",
            "administered_by",
            "total_score",
            "criteria_met",
            "meets_withdrawal_criteria",
            "instrument_version",
            "bands",
            "bands_label",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )

    def domain_problems(self, values, failed):
        """The answers are checked against the instrument even when another field failed."""
        if "instrument" in failed or "items" in failed or "items" not in values:
            return []
        return assessment_item_problems(instrument=values["instrument"], items=values["items"])


class AssessmentFilter(PatientRecordFilter):
    administered_after = PlausibleDateTimeFilter(field_name="administered_at", lookup_expr="gte")
    administered_before = PlausibleDateTimeFilter(field_name="administered_at", lookup_expr="lt")

    class Meta:
        model = Assessment
        fields = ("patient", "instrument", "status", "severity")


class AssessmentViewSet(EnteredInErrorMixin, RecordViewSet):
    """Withdrawal assessments. Append-only: correct one by marking it entered in error."""

    model = Assessment
    selector = staticmethod(assessment_list)
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    http_method_names = APPEND_ONLY_METHODS

    def create_record(self, *, actor, data):
        return assessment_record(actor=actor, **data)
