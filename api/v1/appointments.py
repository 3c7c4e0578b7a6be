from __future__ import annotations

import django_filters
from rest_framework import serializers

from caseload.models import Appointment
from caseload.selectors.records import appointment_list
from caseload.services.appointments import appointment_create, appointment_update

from .base import RECORD_META, PatientRecordFilter, RecordViewSet, StrictSerializerMixin
from .fields import (
    PlausibleDateTimeFilter,
    ProgramStaffField,
    VisiblePatientField,
    validate_plausible_datetime,
)


class AppointmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    staff = ProgramStaffField()
    start = serializers.DateTimeField(validators=[validate_plausible_datetime])
    end = serializers.DateTimeField(validators=[validate_plausible_datetime])

    class Meta:
        model = Appointment
        fields = (
            "id",
            "patient",
            "staff",
            "kind",
            "status",
            "start",
            "end",
            "location",
            "reminder_due_at",
            *RECORD_META,
        )
        immutable_fields = ("patient",)
        read_only_fields = (
            "id",
            "reminder_due_at",
            *RECORD_META,
        )


class AppointmentFilter(PatientRecordFilter):
    staff = django_filters.UUIDFilter()
    start_after = PlausibleDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = PlausibleDateTimeFilter(field_name="start", lookup_expr="lt")
    updated_since = PlausibleDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Appointment
        fields = ("patient", "staff", "status", "kind")


class AppointmentViewSet(RecordViewSet):
    model = Appointment
    selector = staticmethod(appointment_list)
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return appointment_create(actor=actor, patient=patient, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return appointment_update(
            appointment=instance, actor=actor, changes=changes, expected_version=expected_version
        )
