"""`/api/v1/audit-events/`: the audit log, read-only, for supervisors of the program."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.pagination import KeysetPagination
from api.permissions import RolePermission
from caseload.models import AuditAction, AuditEvent, AuditOutcome
from caseload.selectors.audit import (
    audit_event_list,
    audit_event_patients,
    audit_events_touching,
)
from caseload.services.audit import audit_read

from .fields import PlausibleDateTimeFilter
from .filters import filters_used, queried_patients
from .read import ReadViewSet


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", allow_null=True, help_text="Staff id.")
    client = serializers.UUIDField(allow_null=True, help_text="Integration client id.")
    patients = serializers.SerializerMethodField(
        help_text="Every patient the event touched (a list page: each patient it returned)."
    )

    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "occurred_at",
            "actor",
            "client",
            "role",
            "action",
            "resource_type",
            "resource_id",
            "patients",
            "outcome",
            "status_code",
            "request_id",
            "break_glass",
            "detail",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_patients(self, event: AuditEvent) -> list[str]:
        return [str(i) for i in self.context["patients"].get(event.pk, [])]


class AuditEventFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(method="touching", help_text="Events that touched it.")
    actor = django_filters.UUIDFilter(field_name="actor_id")
    client = django_filters.UUIDFilter(field_name="client")
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    outcome = django_filters.ChoiceFilter(choices=AuditOutcome.choices)
    occurred_after = PlausibleDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = PlausibleDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ()

    def touching(self, queryset, name, value):
        return audit_events_touching(queryset, value)


class AuditEventViewSet(ReadViewSet):
    """Who saw or changed what, when, and what was refused: newest first, keyset-paginated.

    Supervisors only, their program only. Reading the log is itself audited.
    """

    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = KeysetPagination
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    action_permissions: dict[str, str] = {}

    def get_queryset(self):
        return audit_event_list(user=self.request.user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # The events' own patients are not repeated in this read's event: the filter's is.
        audit_read(
            actor=request.user,
            model=AuditEvent,
            objects=[],
            action=AuditAction.LIST,
            patient_ids=queried_patients(request, []),
            detail={"count": len(page)} | filters_used(request),
        )
        data = self.get_serializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        event = self.get_object()
        patients = audit_event_patients([event])
        audit_read(
            actor=request.user,
            model=AuditEvent,
            objects=[event],
            action=AuditAction.READ,
            patient_ids=patients[event.pk],
        )
        return Response(self.get_serializer(event, context=self._context([event])).data)

    def _context(self, events) -> dict:
        return self.get_serializer_context() | {"patients": audit_event_patients(events)}
