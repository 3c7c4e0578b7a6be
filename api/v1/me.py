from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import AuditedViewMixin
from caseload.models import Staff, is_integration
from caseload.permissions import ROLE_PERMISSIONS

from .query import StrictQueryMixin


class MeSerializer(serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Staff
        fields = ("id", "username", "first_name", "last_name", "role", "program", "permissions")
        read_only_fields = fields

    def get_permissions(self, staff: Staff) -> list[str]:
        return sorted(ROLE_PERMISSIONS.get(staff.role, set()))


class IsPerson(permissions.IsAuthenticated):
    """A signed-in person; an integration client is not one."""

    def has_permission(self, request: Request, view) -> bool:
        return super().has_permission(request, view) and not is_integration(request.user)


class MeView(AuditedViewMixin, StrictQueryMixin, APIView):
    """Who the caller is: their role, program and what the role may do."""

    permission_classes = [IsPerson]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(me_body(request.user))


def me_body(staff: Staff) -> dict:
    """What `MeSerializer` writes for `staff`, without building a ModelSerializer's fields on
    every request (they were a third of the cost of `/me/`); tests/api/test_authentication.py
    compares the two for every role."""
    program = staff.program
    return {
        "id": str(staff.pk),
        "username": staff.username,
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "role": staff.role,
        "program": None if program is None else program.code,
        "permissions": sorted(ROLE_PERMISSIONS.get(staff.role, set())),
    }
