from __future__ import annotations

from rest_framework import serializers

from caseload.models import Assessment, Instrument
from caseload.selectors.records import assessment_list
from caseload.services.assessments import assessment_record

from .base import (
    APPEND_ONLY_METHODS,
    CORRECTION_FIELDS,
    RECORD_META,
    PatientRecordFilter,
    RecordViewSet,
    StrictSerializerMixin,
)
from .corrections import EnteredInErrorMixin
from .fields import PlausibleDateTimeFilter, VisiblePatientField, validate_past_datetime


class AssessmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    items = serializers.JSONField(
        help_text="Raw answers keyed by item (see the README); the server computes every result."
    )
    administered_at = serializers.DateTimeField(validators=[validate_past_datetime])
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
