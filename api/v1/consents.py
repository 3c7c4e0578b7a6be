"""`/api/v1/consents/`: Part 2 consents (42 CFR 2.31). Created whole, never edited; ended by
`POST /api/v1/consents/{id}/revoke/`, or for a consent that ends with an event by
`POST /api/v1/consents/{id}/expiry-event/`, and replaced by a new one."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.models import AuditAction, Consent, ConsentStatus, InformationCategory, SignerRole
from caseload.permissions import CHANGE
from caseload.selectors.consents import consent_list, consent_status
from caseload.services.consents import (
    consent_create,
    consent_problems,
    consent_record_expiry_event,
    consent_revoke,
)

from .base import APPEND_ONLY_METHODS, RECORD_META, RecordViewSet, expected_version
from .fields import DateTimeField, VisiblePatientField
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


class ConsentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    information = serializers.ListField(
        child=serializers.ChoiceField(choices=InformationCategory.choices),
        allow_empty=False,
        help_text="What may be disclosed. `notes` (counseling notes) only alone.",
    )
    recipient_client = serializers.UUIDField(
        required=False, allow_null=True, help_text="The integration client receiving, if any."
    )
    expires_at = DateTimeField(required=False, allow_null=True)
    expiry_event = serializers.CharField(required=False, allow_blank=True, max_length=500)
    revocation_notice = serializers.BooleanField(
        help_text="True: the patient was told how to revoke this consent. Required."
    )
    redisclosure_statement = serializers.BooleanField(
        allow_null=True,
        help_text="True: the consent told the patient that what is disclosed may be redisclosed "
        "by the recipient and no longer be protected. Required (null only on consents recorded "
        "before it was asked for).",
    )
    treatment_not_conditioned_statement = serializers.BooleanField(
        allow_null=True,
        help_text="True: the consent said whether treatment, payment, enrollment or eligibility "
        "is conditioned on signing it. Required (null only on consents recorded before it was "
        "asked for).",
    )
    signer_role = serializers.ChoiceField(
        choices=SignerRole.choices,
        help_text="Who signed, named in `signed_by`: the patient, a guardian or a personal "
        "representative.",
    )
    recipient_address = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="The recipient's address."
    )
    expiry_event_occurred_at = DateTimeField(
        read_only=True, allow_null=True, help_text="When the expiry event happened, once recorded."
    )
    status = serializers.SerializerMethodField(help_text="active, revoked or expired (derived).")

    class Meta:
        model = Consent
        fields = (
            "id",
            "patient",
            "recipient_name",
            "recipient_client",
            "recipient_address",
            "purpose",
            "information",
            "expires_at",
            "expiry_event",
            "signed_by",
            "signer_role",
            "signed_at",
            "revocation_notice",
            "redisclosure_statement",
            "treatment_not_conditioned_statement",
            "status",
            "revoked_at",
            "revoked_by",
            "expiry_event_occurred_at",
            "expiry_event_recorded_by",
            "created_by",
            *RECORD_META,
        )
        read_only_fields = (
            "id",
            "status",
            "revoked_at",
            "revoked_by",
            "expiry_event_occurred_at",
            "expiry_event_recorded_by",
            "created_by",
            *RECORD_META,
        )

    def get_status(self, consent: Consent) -> str:
        return getattr(consent, "derived_status", None) or consent_status(consent)

    def domain_problems(self, values, failed):
        return consent_problems(values, failed=failed | {"patient"})


class ExpiryEventSerializer(StrictSerializerMixin, serializers.Serializer):
    occurred_at = DateTimeField(
        required=False, help_text="When the event happened (default: now). Not in the future."
    )


class ConsentFilter(PatientRecordFilter):
    status = django_filters.ChoiceFilter(field_name="derived_status", choices=ConsentStatus.choices)

    class Meta:
        model = Consent
        fields = ("patient", "status")


class ConsentViewSet(RecordViewSet):
    """Part 2 consents of the patients you see. Counselors of the patient and supervisors write
    them; a missing element is a 400 naming it. Never edited: revoke, then record a new one."""

    model = Consent
    selector = staticmethod(consent_list)
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    http_method_names = APPEND_ONLY_METHODS
    action_permissions = {"revoke": CHANGE, "expiry_event": CHANGE}

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return consent_create(actor=actor, patient=patient, fields=data)

    @extend_schema(request=None, responses=ConsentSerializer)
    @action(detail=True, methods=["post"], audit_action=AuditAction.REVOKE)
    def revoke(self, request: Request, pk=None) -> Response:
        """End the consent now (409 if it is already revoked or expired)."""
        consent = self.get_object()
        revoked = consent_revoke(
            consent=consent, actor=request.user, expected_version=expected_version(request)
        )
        return self.respond_written(revoked)

    @extend_schema(request=ExpiryEventSerializer, responses=ConsentSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="expiry-event",
        audit_action=AuditAction.TRANSITION,
    )
    def expiry_event(self, request: Request, pk=None) -> Response:
        """Record that the consent's expiry event happened (`occurred_at`, default now): the
        consent is expired from then on, and an integration relying on it gets 410
        `sync_expired` on its next sync. 409 `no_expiry_event` for a consent that ends on a
        date; 409 if it is already revoked or expired."""
        consent = self.get_object()
        payload = ExpiryEventSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ended = consent_record_expiry_event(
            consent=consent,
            actor=request.user,
            occurred_at=payload.validated_data.get("occurred_at"),
            expected_version=expected_version(request),
        )
        return self.respond_written(ended)
