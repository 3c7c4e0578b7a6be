from __future__ import annotations

from rest_framework import serializers

from caseload.models import DrugScreen, DrugScreenResult, ScreenResult, Substance
from caseload.selectors.records import drug_screen_list
from caseload.services.drug_screens import drug_screen_record

from .base import APPEND_ONLY_METHODS, CORRECTION_FIELDS, RECORD_META, RecordViewSet
from .corrections import EnteredInErrorMixin
from .fields import DateTimeField, VisiblePatientField, validate_past_datetime
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


class DrugScreenResultSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    substance = serializers.ChoiceField(choices=Substance.choices)
    result = serializers.ChoiceField(choices=ScreenResult.choices)

    class Meta:
        model = DrugScreenResult
        fields = ("substance", "result")


class DrugScreenSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    collected_at = DateTimeField(validators=[validate_past_datetime])
    results = DrugScreenResultSerializer(many=True, allow_empty=False, max_length=50)

    class Meta:
        model = DrugScreen
        fields = (
            "id",
            "patient",
            "collected_at",
            "collected_by",
            "method",
            "results",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )
        read_only_fields = (
            "id",
            "collected_by",
            *CORRECTION_FIELDS,
            *RECORD_META,
        )


class DrugScreenFilter(PatientRecordFilter):
    class Meta:
        model = DrugScreen
        fields = ("patient", "method", "status")


class DrugScreenViewSet(EnteredInErrorMixin, RecordViewSet):
    """Urine drug screens. Append-only: correct one by marking it entered in error."""

    model = DrugScreen
    selector = staticmethod(drug_screen_list)
    serializer_class = DrugScreenSerializer
    filterset_class = DrugScreenFilter
    http_method_names = APPEND_ONLY_METHODS

    def create_record(self, *, actor, data):
        results = [dict(row) for row in data.pop("results")]
        return drug_screen_record(actor=actor, results=results, **data)
