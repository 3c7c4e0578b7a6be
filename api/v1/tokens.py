"""A staff member's own personal API tokens: list, create (the secret is shown once), revoke.

Creating one takes the caller's password again, and no token outlives CASELOAD_TOKEN_TTL_DAYS.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import IsProgramStaff
from api.schema import error_response
from caseload.models import ApiToken
from caseload.selectors.people import tokens_of
from caseload.services.tokens import (
    token_issue_for_self,
    token_lifetime,
    token_revoke,
    token_revoke_all,
)

from .read import ReadViewSet
from .strict import StrictSerializerMixin


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
        read_only_fields = fields


class NewTokenSerializer(StrictSerializerMixin, serializers.Serializer):
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=4096,
        help_text="The caller's own password: a new token needs it, even from a signed-in caller.",
        style={"input_type": "password"},
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expires_in_days = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="At most CASELOAD_TOKEN_TTL_DAYS (90 unless configured), which is the default.",
    )


class RevokedCountSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many tokens were revoked.")


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token")
        read_only_fields = fields


class TokenViewSet(ReadViewSet):
    """The caller's own personal API tokens."""

    permission_classes = [IsProgramStaff]
    serializer_class = TokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return ApiToken.objects.none()
        return tokens_of(self.request.user)

    @extend_schema(
        request=NewTokenSerializer,
        responses={
            201: IssuedTokenSerializer,
            403: error_response("`invalid_password` (field `password`): the password is wrong."),
            429: error_response(
                "`locked_out`: too many failed sign-ins for this username; no password is "
                "checked until `Retry-After` seconds have passed."
            ),
        },
    )
    def create(self, request: Request) -> Response:
        """A new token for the caller, against their password; its secret is shown only here."""
        payload = NewTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        days = payload.validated_data.get("expires_in_days")
        token, raw = token_issue_for_self(
            staff=request.user,
            password=payload.validated_data["password"],
            name=payload.validated_data["name"],
            ttl=token_lifetime(days),
            via=request.path,
        )
        token.token = raw
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk=None) -> Response:
        """Revoke one of the caller's tokens; it stops working at once."""
        token = token_revoke(token=self.get_object(), actor=request.user)
        return Response(TokenSerializer(token).data)

    @extend_schema(request=None, responses=RevokedCountSerializer)
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request: Request) -> Response:
        """Revoke every token of the caller, the one making this request included."""
        count = token_revoke_all(staff=request.user, actor=request.user)
        return Response(RevokedCountSerializer({"revoked": count}).data)
