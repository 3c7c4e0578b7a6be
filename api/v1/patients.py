from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from caseload.models import Patient
from caseload.permissions import hidden_patient_fields
from caseload.selectors.patients import patient_list
from caseload.services.audit import audit_read
from caseload.services.patients import patient_create, patient_update
from caseload.timeline import EXPECTED_COURSE_LABEL, withdrawal_phase

from ..feed import FeedPagination
from .base import RECORD_META, RecordViewSet, StrictSerializerMixin
from .fields import PlausibleDateTimeFilter, validate_past_date, validate_past_datetime
from .patient_records import (
    HISTORY_SCHEMA,
    TREND_SCHEMA,
    history_payload,
    require_clinical_access,
    trend_payload,
    trend_svg,
)
from .renderers import SvgRenderer


class PatientSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    birth_date = serializers.DateField(validators=[validate_past_date])
    last_use_at = serializers.DateTimeField(
        required=False, allow_null=True, validators=[validate_past_datetime]
    )
    withdrawal_phase = serializers.SerializerMethodField(
        help_text="Expected withdrawal phase from last_use_at: pre_onset, onset, peak, acute, "
        "protracted. The general course, not a clinical finding."
    )
    withdrawal_phase_label = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = (
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "program",
            "phone",
            "email",
            "address_line",
            "city",
            "state",
            "postal_code",
            "reminder_channel",
            "last_use_at",
            "withdrawal_phase",
            "withdrawal_phase_label",
            *RECORD_META,
        )
        read_only_fields = (
            "id",
            *RECORD_META,
        )
        validators = []  # MRN uniqueness is checked by the service, within the program

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            for name in hidden_patient_fields(request.user):
                fields.pop(name, None)
        return fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_withdrawal_phase(self, patient: Patient) -> str | None:
        return withdrawal_phase(patient.last_use_at, timezone.now())

    def get_withdrawal_phase_label(self, patient: Patient) -> str:
        return EXPECTED_COURSE_LABEL


class PatientFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="id")
    mrn = django_filters.CharFilter()
    family_name = django_filters.CharFilter(lookup_expr="iexact")
    updated_since = PlausibleDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Starts a sync walk over patients changed at or after this time: pages link "
        "by `cursor`, the last one gives `next_sync`.",
    )

    class Meta:
        model = Patient
        fields = ("patient", "mrn", "family_name", "updated_since")


class PatientViewSet(RecordViewSet):
    """Patients of the caller's program that the caller may see; demographics and contact details.

    A role that sees no clinical content (front desk) gets no `last_use_at` or withdrawal phase.
    """

    model = Patient
    selector = staticmethod(patient_list)
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    pagination_class = FeedPagination

    def etag_row(self, instance: Patient) -> tuple:
        # The expected withdrawal phase moves with the clock, not with the version.
        if "withdrawal_phase" in hidden_patient_fields(self.request.user):
            return super().etag_row(instance)
        return (*super().etag_row(instance), withdrawal_phase(instance.last_use_at, timezone.now()))

    def create_record(self, *, actor, data):
        return patient_create(actor=actor, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return patient_update(
            patient=instance, actor=actor, changes=changes, expected_version=expected_version
        )

    @HISTORY_SCHEMA
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None) -> Response:
        """Everything recorded about the patient, newest first, with change history."""
        patient = self.get_object()
        require_clinical_access(request.user)
        payload = history_payload(
            user=request.user, patient=patient, context=self.get_serializer_context()
        )
        audit_read(actor=request.user, model=Patient, objects=[patient], action="read_history")
        return Response(payload)

    @TREND_SCHEMA
    @action(
        detail=True,
        methods=["get"],
        url_path="withdrawal-trend",
        renderer_classes=[JSONRenderer, SvgRenderer],
        query_parameters=("format",),
    )
    def withdrawal_trend(self, request, pk=None) -> Response:
        """COWS and SOWS series as JSON, or an SVG chart (`?format=svg`)."""
        patient = self.get_object()
        require_clinical_access(request.user)
        audit_read(actor=request.user, model=Patient, objects=[patient], action="read_trend")
        if request.accepted_renderer.format == "svg":
            return Response(trend_svg(user=request.user, patient=patient))
        return Response(trend_payload(user=request.user, patient=patient))
