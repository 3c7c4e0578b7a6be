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

from .base import APPEND_ONLY_METHODS, RECORD_META, RecordViewSet, expected_version
from .corrections import EnteredInErrorMixin
from .fields import VisiblePatientField, validate_plausible_date
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


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

    # Status moves: one endpoint each; 409 when the status does not allow it.
    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def attending(self, request: Request, pk=None) -> Response:
        """Mark the referral attending; 409 when its status does not allow it."""
        return self._move(request, ReferralStatus.ATTENDING)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def completed(self, request: Request, pk=None) -> Response:
        """Mark the referral completed; 409 when its status does not allow it."""
        return self._move(request, ReferralStatus.COMPLETED)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def declined(self, request: Request, pk=None) -> Response:
        """Mark the referral declined; 409 when its status does not allow it."""
        return self._move(request, ReferralStatus.DECLINED)

    def _move(self, request: Request, to: str) -> Response:
        updated = referral_transition(
            referral=self.get_object(),
            actor=request.user,
            to=to,
            expected_version=expected_version(request),
        )
        return self.respond_written(updated)

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return referral_create(actor=actor, patient=patient, fields=data)
