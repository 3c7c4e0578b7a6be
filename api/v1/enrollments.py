from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.models import DischargeReason, Enrollment
from caseload.permissions import CHANGE
from caseload.selectors.records import enrollment_list
from caseload.services.enrollments import (
    enrollment_activate,
    enrollment_create,
    enrollment_discharge,
    enrollment_update,
)

from .base import RECORD_META, RecordViewSet, expected_version
from .fields import (
    DateTimeField,
    ProgramStaffField,
    VisiblePatientField,
    validate_past_datetime,
    validate_plausible_date,
)
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


class EnrollmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    counselor = ProgramStaffField()
    prescriber = ProgramStaffField(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=[("intake", "Intake"), ("active", "Active")],
        required=False,
        help_text="intake (default) or active when created; afterwards it moves only through "
        "`activate` and `discharge`.",
    )
    admitted_on = serializers.DateField(validators=[validate_plausible_date])
    treatment_consent_signed_at = DateTimeField(
        required=False,
        allow_null=True,
        validators=[validate_past_datetime],
        help_text="When the patient signed the consent to treatment. Needed before the "
        "enrollment becomes active (409 `treatment_consent_missing` otherwise).",
    )
    discharge_reason = serializers.ChoiceField(
        choices=DischargeReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why the episode ended, a code; empty while it is open.",
    )
    asam_level = serializers.CharField(
        read_only=True,
        help_text="The latest level-of-care placement's `actual_level` (empty before any).",
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
            "discharge_reason_detail",
            "treatment_consent_signed_at",
            "asam_level",
            *RECORD_META,
        )
        immutable_fields = ("patient", "status")
        read_only_fields = (
            "id",
            "discharged_on",
            "discharge_reason",
            "discharge_reason_detail",
            "asam_level",
            *RECORD_META,
        )
        validators = []


class EnrollmentFilter(PatientRecordFilter):
    counselor = django_filters.UUIDFilter()
    prescriber = django_filters.UUIDFilter()

    class Meta:
        model = Enrollment
        fields = ("patient", "status", "level_of_care", "counselor", "prescriber")


class DischargeSerializer(StrictSerializerMixin, serializers.Serializer):
    discharged_on = serializers.DateField(
        required=False, validators=[validate_plausible_date], help_text="Defaults to today."
    )
    discharge_reason = serializers.ChoiceField(
        choices=DischargeReason.choices,
        help_text="A code from the list; free text goes in `discharge_reason_detail`.",
    )
    discharge_reason_detail = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text="Required for `other`."
    )

    def domain_problems(self, values, failed):
        if (
            values.get("discharge_reason") == DischargeReason.OTHER
            and not values.get("discharge_reason_detail", "").strip()
        ):
            return [("discharge_reason_detail", "required", "Say what the reason 'other' was.")]
        return []


class EnrollmentViewSet(RecordViewSet):
    """Episodes of care, with the care team (counselor, prescriber) that gives staff access."""

    model = Enrollment
    selector = staticmethod(enrollment_list)
    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilter

    action_permissions = {"discharge": CHANGE, "activate": CHANGE}

    @extend_schema(request=None, responses=EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk=None) -> Response:
        """Move an intake to active care; 409 `illegal_transition` from any other status, 409
        `treatment_consent_missing` while `treatment_consent_signed_at` is not set."""
        enrollment = self.get_object()
        updated = enrollment_activate(
            enrollment=enrollment, actor=request.user, expected_version=expected_version(request)
        )
        return self.respond_written(updated)

    @extend_schema(request=DischargeSerializer, responses=EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def discharge(self, request: Request, pk=None) -> Response:
        """Discharge the episode of care; 409 if it is already discharged."""
        enrollment = self.get_object()
        version = expected_version(request)
        payload = DischargeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = enrollment_discharge(
            enrollment=enrollment,
            actor=request.user,
            discharged_on=payload.validated_data.get("discharged_on", timezone.localdate()),
            reason=payload.validated_data["discharge_reason"],
            detail=payload.validated_data.get("discharge_reason_detail", ""),
            expected_version=version,
        )
        return self.respond_written(updated)

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return enrollment_create(actor=actor, patient=patient, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return enrollment_update(
            enrollment=instance, actor=actor, changes=changes, expected_version=expected_version
        )
