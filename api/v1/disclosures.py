"""The disclosure ledger, read-only: `/api/v1/disclosures/`, and each patient's accounting of
disclosures at `/api/v1/patients/{id}/disclosures/?since=&until=` (six years back at most)."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers

from api.permissions import RolePermission
from caseload.models import Disclosure, DisclosureBasis
from caseload.selectors.disclosures import ACCOUNTING_PERIOD, disclosure_list

from .base import AuditedReadMixin
from .fields import DateTimeField, PlausibleDateTimeFilter
from .filters import PatientRecordFilter
from .read import ReadViewSet


class DisclosureSerializer(serializers.ModelSerializer):
    client = serializers.UUIDField(allow_null=True)
    information = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Disclosure
        fields = (
            "id",
            "patient",
            "disclosed_at",
            "recipient_name",
            "client",
            "information",
            "purpose",
            "basis",
            "consent",
        )
        read_only_fields = fields


class DisclosureFilter(PatientRecordFilter):
    basis = django_filters.ChoiceFilter(choices=DisclosureBasis.choices)
    client = django_filters.UUIDFilter(field_name="client")
    disclosed_after = PlausibleDateTimeFilter(field_name="disclosed_at", lookup_expr="gte")
    disclosed_before = PlausibleDateTimeFilter(field_name="disclosed_at", lookup_expr="lt")

    class Meta:
        model = Disclosure
        fields = ("patient", "basis", "client", "disclosed_after", "disclosed_before")


class DisclosureViewSet(AuditedReadMixin, ReadViewSet):
    """Every disclosure of the patients you see, newest first. Written only by the services that
    disclose (exports, integration payloads); no write method."""

    model = Disclosure
    serializer_class = DisclosureSerializer
    filterset_class = DisclosureFilter
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    action_permissions: dict[str, str] = {}

    def get_queryset(self):
        return disclosure_list(user=self.request.user)


class AccountingQuerySerializer(serializers.Serializer):
    since = DateTimeField(required=False)
    until = DateTimeField(required=False)

    def validate(self, attrs):
        now = timezone.now()
        since: datetime = attrs.get("since") or now - ACCOUNTING_PERIOD
        until: datetime = attrs.get("until") or now
        errors = {}
        if since < now - ACCOUNTING_PERIOD:
            errors["since"] = serializers.ErrorDetail(
                "An accounting covers at most the six years before the request.",
                code="out_of_range",
            )
        if until < since:
            errors["until"] = serializers.ErrorDetail(
                "`until` comes after `since`.", code="out_of_range"
            )
        if errors:
            raise serializers.ValidationError(errors)
        return {"since": since, "until": until}


ACCOUNTING_SCHEMA = extend_schema(
    filters=False,
    parameters=[
        OpenApiParameter(
            "since", datetime, description="From (default and earliest: six years ago)."
        ),
        OpenApiParameter("until", datetime, description="To (default: now)."),
    ],
    responses=DisclosureSerializer(many=True),
)
