"""A staff member's own personal API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.models import ApiToken
from caseload.services.tokens import token_issue, token_revoke

from .base import StrictSerializerMixin
from .query import StrictQueryMixin
from .reference import IsProgramStaff


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
        read_only_fields = fields


class NewTokenSerializer(StrictSerializerMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, default="")
    expires_in_days = serializers.IntegerField(min_value=1, max_value=365, required=False)


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token")
        read_only_fields = fields


class TokenViewSet(
    StrictQueryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsProgramStaff]
    serializer_class = TokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return ApiToken.objects.none()
        return ApiToken.objects.filter(staff=self.request.user)

    @extend_schema(request=NewTokenSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        payload = NewTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        days = payload.validated_data.get("expires_in_days")
        token, raw = token_issue(
            staff=request.user,
            name=payload.validated_data["name"],
            ttl=timedelta(days=days) if days else None,
        )
        token.token = raw
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk=None) -> Response:
        token = token_revoke(token=self.get_object(), actor=request.user)
        return Response(TokenSerializer(token).data)
