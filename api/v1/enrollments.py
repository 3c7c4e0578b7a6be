from __future__ import annotations

import django_filters
from rest_framework import serializers

from caseload.models import Enrollment
from caseload.selectors.records import enrollment_list
from caseload.services.enrollments import enrollment_create, enrollment_update

from .base import RECORD_META, PatientRecordFilter, RecordViewSet, StrictSerializerMixin
from .fields import ProgramStaffField, VisiblePatientField, validate_plausible_date


class EnrollmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    counselor = ProgramStaffField()
    prescriber = ProgramStaffField(required=False, allow_null=True)
    admitted_on = serializers.DateField(validators=[validate_plausible_date])
    discharged_on = serializers.DateField(
        required=False, allow_null=True, validators=[validate_plausible_date]
    )

    class Meta:
        model = Enrollment
        fields = (
            "id",
            "patient",
            "status",
            "level_of_care",
            "counselor",
            "prescriber",
            "admitted_on",
            "discharged_on",
            "discharge_reason",
            *RECORD_META,
        )
        immutable_fields = ("patient",)
        read_only_fields = (
            "id",
            *RECORD_META,
        )
        validators = []


class EnrollmentFilter(PatientRecordFilter):
    counselor = django_filters.UUIDFilter()
    prescriber = django_filters.UUIDFilter()

    class Meta:
        model = Enrollment
        fields = ("patient", "status", "level_of_care", "counselor", "prescriber")


class EnrollmentViewSet(RecordViewSet):
    model = Enrollment
    selector = staticmethod(enrollment_list)
    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilter

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return enrollment_create(actor=actor, patient=patient, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return enrollment_update(
            enrollment=instance, actor=actor, changes=changes, expected_version=expected_version
        )
