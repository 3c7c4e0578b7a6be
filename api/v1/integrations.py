"""A program's integration clients, for its supervisors: list, disable, rotate the secret.

Clients are registered with `manage.py create_integration`; the secret is shown once, at
registration or rotation.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import IsSupervisor
from caseload.models import IntegrationClient
from caseload.permissions import integration_clients_visible_to
from caseload.services.integrations import integration_disable, integration_rotate_secret

from .read import ReadViewSet


class IntegrationClientSerializer(serializers.ModelSerializer):
    client_id = serializers.CharField(source="application.client_id", read_only=True)
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)
    disabled = serializers.SerializerMethodField()

    class Meta:
        model = IntegrationClient
        fields = (
            "id",
            "name",
            "legal_name",
            "address",
            "client_id",
            "program",
            "scopes",
            "basis",
            "disabled",
            "disabled_at",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_disabled(self, client: IntegrationClient) -> bool:
        return client.is_disabled


class RotatedClientSerializer(IntegrationClientSerializer):
    client_secret = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(IntegrationClientSerializer.Meta):
        fields = (*IntegrationClientSerializer.Meta.fields, "client_secret")
        read_only_fields = fields


class IntegrationClientViewSet(ReadViewSet):
    """The program's integration clients (OAuth2 client credentials), for its supervisors."""

    permission_classes = [IsSupervisor]
    serializer_class = IntegrationClientSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return IntegrationClient.objects.none()
        return integration_clients_visible_to(self.request.user).select_related(
            "application", "program"
        )

    @extend_schema(request=None, responses=IntegrationClientSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk=None) -> Response:
        """Stop the client: its tokens stop working on the next request."""
        client = integration_disable(client=self.get_object(), actor=request.user)
        return Response(IntegrationClientSerializer(client).data)

    @extend_schema(request=None, responses=RotatedClientSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk=None) -> Response:
        """A new client secret, shown once; the old secret and every token stop working."""
        client, secret = integration_rotate_secret(client=self.get_object(), actor=request.user)
        client.client_secret = secret
        return Response(RotatedClientSerializer(client).data)
