"""Break the glass: `POST /api/v1/patients/{id}/break-glass/` opens read-only access to a
patient off the caller's caseload; supervisors review each opening at `/api/v1/break-glass/`."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import RolePermission, handles
from api.schema import error_response
from caseload.models import AuditAction, BreakGlass
from caseload.permissions import ADD, CHANGE, has_role_permission
from caseload.selectors.break_glass import break_glass_list
from caseload.services.break_glass import break_glass_review

from .base import AuditedReadMixin, expected_version
from .read import ReadViewSet
from .strict import StrictSerializerMixin


class OpenBreakGlassSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why you need the record now.")


class OpenedBreakGlassSerializer(serializers.ModelSerializer):
    class Meta:
        model = BreakGlass
        fields = ("id", "patient", "expires_at")
        read_only_fields = fields


class BreakGlassSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField(help_text="True until `expires_at`.")

    class Meta:
        model = BreakGlass
        fields = (
            "id",
            "patient",
            "staff",
            "reason",
            "opened_at",
            "expires_at",
            "active",
            "reviewed_at",
            "reviewed_by",
            "review_note",
            "version",
        )
        read_only_fields = fields

    def get_active(self, access: BreakGlass) -> bool:
        return access.expires_at > self.context["now"]


class ReviewSerializer(StrictSerializerMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What the review found.")


class CanBreakGlass(permissions.BasePermission):
    """Counselors and prescribers; anyone else 403 (front desk, supervisors who see all)."""

    def has_permission(self, request: Request, view) -> bool:
        if not handles(view, request):
            return True
        return has_role_permission(request.user, ADD, BreakGlass)


class BreakGlassFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter()
    reviewed = django_filters.BooleanFilter(
        field_name="reviewed_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = BreakGlass
        fields = ("patient", "reviewed")


class BreakGlassViewSet(AuditedReadMixin, ReadViewSet):
    """The review queue: every break-the-glass opening of the program, newest first."""

    if_match_actions = ("review",)  # documented by api/schema.py

    model = BreakGlass
    serializer_class = BreakGlassSerializer
    filterset_class = BreakGlassFilter
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    action_permissions = {"review": CHANGE}

    def get_queryset(self):
        return break_glass_list(user=self.request.user)

    def get_serializer_context(self):
        return super().get_serializer_context() | {"now": timezone.now()}

    @extend_schema(
        request=ReviewSerializer,
        responses={
            200: BreakGlassSerializer,
            409: error_response("`already_reviewed`: the opening was reviewed before."),
        },
    )
    @action(detail=True, methods=["post"], audit_action=AuditAction.UPDATE)
    def review(self, request: Request, pk=None) -> Response:
        """Close an opening in the queue with a note; each is reviewed once (409 after)."""
        access = self.get_object()
        version = expected_version(request)
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reviewed = break_glass_review(
            access=access,
            actor=request.user,
            note=payload.validated_data["note"],
            expected_version=version,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=reviewed.pk)).data)
