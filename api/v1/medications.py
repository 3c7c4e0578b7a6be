from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from caseload.medications import facts_for
from caseload.models import SETTABLE_MEDICATION_STATUSES, MedicationRecord
from caseload.selectors.records import medication_list
from caseload.services.medications import medication_record, medication_update

from .base import RECORD_META, RecordViewSet
from .corrections import EnteredInErrorMixin
from .fields import ProgramStaffField, VisiblePatientField, validate_plausible_date
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


class MedicationSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A medication order as recorded. Caseload never suggests, checks or computes a dose."""

    patient = VisiblePatientField()
    prescriber = ProgramStaffField(required=False)
    dose = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), coerce_to_string=True
    )
    start_date = serializers.DateField(validators=[validate_plausible_date])
    end_date = serializers.DateField(
        required=False, allow_null=True, validators=[validate_plausible_date]
    )
    status = serializers.ChoiceField(choices=SETTABLE_MEDICATION_STATUSES, required=False)
    causes_physical_dependence = serializers.SerializerMethodField()
    rxnorm_ingredient = serializers.SerializerMethodField()

    class Meta:
        model = MedicationRecord
        fields = (
            "id",
            "patient",
            "medication",
            "dose",
            "dose_unit",
            "frequency",
            "route",
            "start_date",
            "end_date",
            "status",
            "prescriber",
            "causes_physical_dependence",
            "rxnorm_ingredient",
            "entered_in_error_reason",
            *RECORD_META,
        )
        immutable_fields = ("patient", "medication")
        read_only_fields = (
            "id",
            "entered_in_error_reason",
            *RECORD_META,
        )

    def get_causes_physical_dependence(self, record: MedicationRecord) -> bool:
        return facts_for(record.medication).causes_physical_dependence

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "system": {"type": "string"},
                "code": {"type": "string"},
                "verified": {"type": "boolean"},
            },
        }
    )
    def get_rxnorm_ingredient(self, record: MedicationRecord) -> dict | None:
        facts = facts_for(record.medication)
        if facts.rxnorm_ingredient is None:
            return None
        return {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": facts.rxnorm_ingredient,
            "verified": facts.rxnorm_verified,
        }


class MedicationFilter(PatientRecordFilter):
    class Meta:
        model = MedicationRecord
        fields = ("patient", "medication", "status")


class MedicationViewSet(EnteredInErrorMixin, RecordViewSet):
    """Medication orders, recorded as the prescriber gave them. Caseload never suggests a dose."""

    model = MedicationRecord
    selector = staticmethod(medication_list)
    serializer_class = MedicationSerializer
    filterset_class = MedicationFilter

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return medication_record(actor=actor, patient=patient, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return medication_update(
            record=instance, actor=actor, changes=changes, expected_version=expected_version
        )
