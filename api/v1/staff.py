"""The program's staff, to pick a counselor, prescriber or appointment staff; supervisors lift
sign-in locks here."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import IsProgramStaff
from caseload.models import Role, Staff
from caseload.selectors.people import colleagues_of
from caseload.services.signins import signin_unlock

from .read import ReadViewSet


class StaffSerializer(serializers.ModelSerializer):
    username = serializers.CharField(
        read_only=True,
        help_text="The sign-in name: a list of them is a list of accounts to attack.",
    )

    class Meta:
        model = Staff
        fields = ("id", "username", "first_name", "last_name", "role", "is_active")
        read_only_fields = fields
        supervisor_only_fields = ("username",)

    def to_representation(self, instance: Staff) -> dict:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or getattr(request.user, "role", None) != Role.SUPERVISOR:
            data.pop("username", None)
        return data


class UnlockedSerializer(serializers.Serializer):
    lifted = serializers.IntegerField(help_text="How many sign-in locks were lifted.")


class StaffFilter(django_filters.FilterSet):
    class Meta:
        model = Staff
        fields = ("role", "is_active")


class StaffViewSet(ReadViewSet):
    """Staff of the caller's program, to pick a counselor, prescriber or appointment staff."""

    permission_classes = [IsProgramStaff]
    serializer_class = StaffSerializer
    filterset_class = StaffFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Staff.objects.none()
        return colleagues_of(self.request.user)

    @extend_schema(request=None, responses=UnlockedSerializer)
    @action(detail=True, methods=["post"], url_path="unlock-signin")
    def unlock_signin(self, request: Request, pk=None) -> Response:
        """Lift the staff member's sign-in locks, from every source (supervisors)."""
        lifted = signin_unlock(staff=self.get_object(), actor=request.user)
        return Response({"lifted": lifted})
