"""The disclosure ledger, read-only: `/api/v1/disclosures/`, and each patient's accounting of
disclosures at `/api/v1/patients/{id}/disclosures/?since=&until=` (six years back at most), where
a supervisor also records a disclosure made outside the system (POST)."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers

from api.permissions import RolePermission
from caseload.models import Disclosure, InformationCategory, LedgerBasis
from caseload.selectors.disclosures import ACCOUNTING_PERIOD, disclosure_list
from caseload.services.disclosures_off_system import OFF_SYSTEM_BASES, off_system_problems

from .base import AuditedReadMixin
from .fields import DateTimeField, PlausibleDateTimeFilter
from .filters import PatientRecordFilter
from .read import ReadViewSet
from .strict import StrictSerializerMixin


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
            "recipient_address",
            "emergency",
            "disclosed_by",
            "court_order_reference",
            "recorded_at",
        )
        read_only_fields = fields


class OffSystemDisclosureSerializer(StrictSerializerMixin, serializers.Serializer):
    """A disclosure made outside the system, as a supervisor records it."""

    basis = serializers.ChoiceField(
        choices=OFF_SYSTEM_BASES,
        help_text="consent (42 CFR 2.31), medical_emergency (2.51), court_order (2.61-2.67), "
        "audit_evaluation (2.53) or research (2.52).",
    )
    recipient = serializers.CharField(
        max_length=200,
        help_text="Who received it (for a medical emergency: the person and their facility).",
    )
    recipient_address = serializers.CharField(required=False, allow_blank=True, max_length=500)
    information = serializers.ListField(
        child=serializers.ChoiceField(choices=InformationCategory.choices), allow_empty=False
    )
    disclosed_at = DateTimeField(help_text="When it was disclosed (not in the future).")
    purpose = serializers.CharField(max_length=2000)
    consent = serializers.UUIDField(
        required=False, allow_null=True, help_text="Basis consent: the consent relied on."
    )
    emergency = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Basis medical_emergency: the nature of the emergency.",
    )
    disclosed_by = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Basis medical_emergency: who made the disclosure.",
    )
    court_order_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Basis court_order: the order's court, docket or reference.",
    )

    def domain_problems(self, values, failed):
        return off_system_problems(values, failed=failed)


class DisclosureFilter(PatientRecordFilter):
    basis = django_filters.ChoiceFilter(choices=LedgerBasis.choices)
    client = django_filters.UUIDFilter(field_name="client")
    disclosed_after = PlausibleDateTimeFilter(field_name="disclosed_at", lookup_expr="gte")
    disclosed_before = PlausibleDateTimeFilter(field_name="disclosed_at", lookup_expr="lt")

    class Meta:
        model = Disclosure
        fields = ("patient", "basis", "client", "disclosed_after", "disclosed_before")


class DisclosureViewSet(AuditedReadMixin, ReadViewSet):
    """Every disclosure of the patients you see, newest first. Written only by the services that
    disclose (exports, integration payloads) and by a supervisor recording one made outside the
    system (`POST /api/v1/patients/{id}/disclosures/`); no write method here."""

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
    methods=["GET"],
    filters=False,
    parameters=[
        OpenApiParameter(
            "since", datetime, description="From (default and earliest: six years ago)."
        ),
        OpenApiParameter("until", datetime, description="To (default: now)."),
        OpenApiParameter(
            "format",
            str,
            enum=["json", "csv", "pdf"],
            description="`csv` or `pdf` for the accounting as the patient reads it (or send "
            "`Accept: text/csv` or `application/pdf`).",
        ),
    ],
    responses={
        (200, "application/json"): DisclosureSerializer(many=True),
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description="The accounting, one line per entry."
        ),
        (200, "application/pdf"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="The accounting for the patient to read, the 42 CFR 2.32 notice on "
            "every page.",
        ),
    },
)
OFF_SYSTEM_SCHEMA = extend_schema(
    methods=["POST"],
    parameters=[
        OpenApiParameter(
            "format", str, enum=["json"], description="The answer is the recorded row as JSON."
        )
    ],
    request=OffSystemDisclosureSerializer,
    responses={201: DisclosureSerializer},
)
