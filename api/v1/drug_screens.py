from __future__ import annotations

import django_filters
from rest_framework import serializers

from caseload.models import DrugScreen, DrugScreenResult, ScreenResult, Substance
from caseload.selectors.records import drug_screen_list
from caseload.services.drug_screens import drug_screen_record

from .base import RecordViewSet, StrictSerializerMixin
from .corrections import EnteredInErrorMixin
from .fields import VisiblePatientField, validate_past_datetime


class DrugScreenResultSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    substance = serializers.ChoiceField(choices=Substance.choices)
    result = serializers.ChoiceField(choices=ScreenResult.choices)

    class Meta:
        model = DrugScreenResult
        fields = ("substance", "result")


class DrugScreenSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    collected_at = serializers.DateTimeField(validators=[validate_past_datetime])
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
            "status",
            "entered_in_error_reason",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "id",
            "collected_by",
            "status",
            "entered_in_error_reason",
            "version",
            "created_at",
            "updated_at",
        )


class DrugScreenFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter()

    class Meta:
        model = DrugScreen
        fields = ("patient", "method", "status")


class DrugScreenViewSet(EnteredInErrorMixin, RecordViewSet):
    """Urine drug screens. Append-only: correct one by marking it entered in error."""

    model = DrugScreen
    selector = staticmethod(drug_screen_list)
    serializer_class = DrugScreenSerializer
    filterset_class = DrugScreenFilter
    http_method_names = ("get", "post", "head", "options")

    def create_record(self, *, actor, data):
        results = [dict(row) for row in data.pop("results")]
        return drug_screen_record(actor=actor, results=results, **data)
