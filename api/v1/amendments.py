"""Amendment requests (HIPAA 164.526): a patient's are listed and recorded at
`/api/v1/patients/{id}/amendments/` (`?overdue=true`: pending past their 60 days); each is read
and decided at `/api/v1/amendments/{id}/`: `accept/` (supervisor, naming the corrected record),
`deny/` (supervisor, with the reason), `disagreement/` (the patient's statement after a denial).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.conditional import etag_for
from api.permissions import RolePermission
from caseload.models import AmendmentRequest, AmendmentStatus, AuditAction
from caseload.permissions import CHANGE, VIEW
from caseload.selectors.amendments import amendment_list, is_overdue, overdue
from caseload.services.amendments import (
    amendment_accept,
    amendment_deny,
    amendment_file_disagreement,
    amendment_request_problems,
)

from .base import AuditedReadMixin, expected_version
from .fields import DateTimeField
from .filters import PatientRecordFilter
from .read import ReadViewSet
from .strict import StrictSerializerMixin


class AmendmentSerializer(serializers.ModelSerializer):
    record = serializers.UUIDField(source="record_id", read_only=True)
    replacement = serializers.UUIDField(source="replacement_id", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Pending past `due_at` (60 days).")

    class Meta:
        model = AmendmentRequest
        fields = (
            "id",
            "patient",
            "record_type",
            "record",
            "requested_at",
            "requested_change",
            "due_at",
            "overdue",
            "status",
            "decided_at",
            "decided_by",
            "denial_reason",
            "replacement",
            "disagreement",
            "disagreement_at",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, amendment: AmendmentRequest) -> bool:
        return is_overdue(amendment)


class AmendmentCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    record = serializers.UUIDField(help_text="The id of the patient's record to amend.")
    requested_at = DateTimeField(
        required=False, help_text="When the patient asked (default: now). Starts the 60 days."
    )
    requested_change = serializers.CharField(max_length=4000)

    def domain_problems(self, values, failed):
        return amendment_request_problems(self.context["patient"], values, failed)


class AcceptSerializer(StrictSerializerMixin, serializers.Serializer):
    replacement = serializers.UUIDField(
        help_text="The corrected record, made first through its own endpoint."
    )


class DenySerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class DisagreementSerializer(StrictSerializerMixin, serializers.Serializer):
    statement = serializers.CharField(max_length=4000)


class OverdueQuerySerializer(serializers.Serializer):
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


class AmendmentFilter(PatientRecordFilter):
    status = django_filters.ChoiceFilter(choices=AmendmentStatus.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="Pending, past due.")

    class Meta:
        model = AmendmentRequest
        fields = ("patient", "status", "overdue")

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue()) if value else queryset.exclude(overdue())


def patient_amendments(*, user, patient, overdue_only: bool | None):
    rows = amendment_list(user=user).filter(patient=patient)
    if overdue_only is None:
        return rows
    return rows.filter(overdue()) if overdue_only else rows.exclude(overdue())


PATIENT_AMENDMENTS_SCHEMA = extend_schema(
    methods=["GET"],
    filters=False,
    parameters=[OpenApiParameter("overdue", bool, description="true: pending past their 60 days.")],
    responses=AmendmentSerializer(many=True),
)
NEW_AMENDMENT_SCHEMA = extend_schema(
    methods=["POST"], request=AmendmentCreateSerializer, responses={201: AmendmentSerializer}
)


class AmendmentViewSet(AuditedReadMixin, ReadViewSet):
    """Amendment requests of the patients you see, newest first. Recorded at
    `/api/v1/patients/{id}/amendments/`; decided here."""

    model = AmendmentRequest
    serializer_class = AmendmentSerializer
    filterset_class = AmendmentFilter
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    # The services ask the policy who decides (a supervisor) and who files a statement.
    action_permissions = {"accept": VIEW, "deny": VIEW, "disagreement": CHANGE}
    # Each decision is taken only on the version last read when `If-Match` is sent.
    if_match_actions = ("accept", "deny", "disagreement")

    def get_queryset(self):
        return amendment_list(user=self.request.user)

    def _respond(self, amendment: AmendmentRequest) -> Response:
        fresh = self.get_queryset().filter(pk=amendment.pk).first() or amendment
        response = Response(self.get_serializer(fresh).data)
        response["ETag"] = etag_for(fresh)
        return response

    @extend_schema(request=AcceptSerializer, responses=AmendmentSerializer)
    @action(detail=True, methods=["post"], audit_action=AuditAction.TRANSITION)
    def accept(self, request: Request, pk=None) -> Response:
        """Accept (supervisor): the original record is marked entered in error and the corrected
        record named, linked both ways. 409 unless pending."""
        amendment = self.get_object()
        payload = AcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        accepted = amendment_accept(
            amendment=amendment,
            actor=request.user,
            replacement=payload.validated_data["replacement"],
            expected_version=expected_version(request),
        )
        return self._respond(accepted)

    @extend_schema(request=DenySerializer, responses=AmendmentSerializer)
    @action(detail=True, methods=["post"], audit_action=AuditAction.TRANSITION)
    def deny(self, request: Request, pk=None) -> Response:
        """Deny in writing (supervisor), with the reason. 409 unless pending."""
        amendment = self.get_object()
        payload = DenySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        denied = amendment_deny(
            amendment=amendment,
            actor=request.user,
            reason=payload.validated_data["reason"],
            expected_version=expected_version(request),
        )
        return self._respond(denied)

    @extend_schema(request=DisagreementSerializer, responses=AmendmentSerializer)
    @action(detail=True, methods=["post"], audit_action=AuditAction.UPDATE)
    def disagreement(self, request: Request, pk=None) -> Response:
        """The patient's statement of disagreement with a denial; it goes with the record in
        every later copy. 409 unless denied, or once filed."""
        amendment = self.get_object()
        payload = DisagreementSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        filed = amendment_file_disagreement(
            amendment=amendment,
            actor=request.user,
            statement=payload.validated_data["statement"],
            expected_version=expected_version(request),
        )
        return self._respond(filed)
