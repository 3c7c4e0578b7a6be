from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.models import Referral, ReferralStatus
from caseload.permissions import CHANGE
from caseload.selectors.records import referral_list
from caseload.services.referrals import referral_create, referral_transition

from .base import (
    APPEND_ONLY_METHODS,
    RECORD_META,
    PatientRecordFilter,
    RecordViewSet,
    StrictSerializerMixin,
    expected_version,
)
from .corrections import EnteredInErrorMixin
from .fields import VisiblePatientField, validate_plausible_date


class ReferralSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    referred_on = serializers.DateField(validators=[validate_plausible_date])

    class Meta:
        model = Referral
        fields = (
            "id",
            "patient",
            "group",
            "group_name",
            "referred_on",
            "status",
            "status_changed_at",
            "notes",
            "entered_in_error_reason",
            *RECORD_META,
        )
        read_only_fields = (
            "id",
            "status",
            "status_changed_at",
            "entered_in_error_reason",
            *RECORD_META,
        )


class ReferralFilter(PatientRecordFilter):
    class Meta:
        model = Referral
        fields = ("patient", "group", "status")


def _transition(to: str):
    """An endpoint `POST /referrals/{id}/<to>/` that moves the referral to status `to`."""

    def transition(self, request: Request, pk=None) -> Response:
        referral = self.get_object()
        updated = referral_transition(
            referral=referral,
            actor=request.user,
            to=to,
            expected_version=expected_version(request),
        )
        return self.respond_written(updated)

    transition.__name__ = to  # the router maps the method by this name
    transition.__doc__ = f"Mark the referral {to}; 409 when its status does not allow it."
    decorated = action(detail=True, methods=["post"], url_path=to, url_name=to)(transition)
    return extend_schema(request=None, responses=ReferralSerializer)(decorated)


class ReferralViewSet(EnteredInErrorMixin, RecordViewSet):
    """Support-group referrals. Each status change is its own endpoint; 409 when not allowed."""

    model = Referral
    selector = staticmethod(referral_list)
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    http_method_names = APPEND_ONLY_METHODS
    action_permissions = {
        "entered_in_error": CHANGE,
        "attending": CHANGE,
        "completed": CHANGE,
        "declined": CHANGE,
    }

    attending = _transition(ReferralStatus.ATTENDING.value)
    completed = _transition(ReferralStatus.COMPLETED.value)
    declined = _transition(ReferralStatus.DECLINED.value)

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return referral_create(actor=actor, patient=patient, fields=data)
