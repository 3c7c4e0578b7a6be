"""Webhook subscriptions of a program and their delivery log (supervisors)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import IsSupervisor
from api.schema import error_response
from caseload.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from caseload.selectors.people import delivery_log, webhooks_of_program
from caseload.services.webhooks import (
    webhook_create,
    webhook_replay,
    webhook_rotate_secret,
    webhook_update,
)

from .read import ReadViewSet
from .strict import StrictSerializerMixin


class WebhookSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    url = serializers.URLField(max_length=500, help_text="An http(s) URL that receives POSTs.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        allow_empty=False,
        help_text="The events to receive.",
    )
    client_id = serializers.UUIDField(
        help_text=(
            "The integration client of the program the deliveries are disclosed to; each is "
            "sent only if that client may lawfully receive the patient when it is sent."
        ),
    )

    class Meta:
        model = WebhookSubscription
        fields = (
            "id",
            "url",
            "events",
            "client_id",
            "active",
            "disabled_at",
            "consecutive_failures",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "id",
            "disabled_at",
            "consecutive_failures",
            "created_at",
            "updated_at",
        )

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Use an http or https URL.", code="invalid")
        return value


class NewWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=(
            "Shown once: the Standard Webhooks secret (`whsec_<base64 key>`) that verifies "
            "each delivery's webhook-signature."
        ),
    )

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event.event", read_only=True)
    event_id = serializers.IntegerField(source="event.id", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "withheld_reason",
            "delivered_at",
            "created_at",
        )
        read_only_fields = fields


class ReplaySerializer(StrictSerializerMixin, serializers.Serializer):
    delivery = serializers.UUIDField(help_text="The delivery to send again.")


class WebhookViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ReadViewSet,
):
    """Webhook subscriptions of the caller's program (supervisors)."""

    permission_classes = [IsSupervisor]
    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return webhooks_of_program(self.request.user)

    @extend_schema(request=WebhookSerializer, responses={201: NewWebhookSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Subscribe a URL to events; the answer carries the signing secret, once."""
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        subscription, secret = webhook_create(
            actor=request.user, fields=dict(payload.validated_data)
        )
        subscription.secret = secret
        return Response(NewWebhookSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer) -> None:
        serializer.instance = webhook_update(
            subscription=serializer.instance,
            changes=dict(serializer.validated_data),
            actor=self.request.user,
        )

    @extend_schema(request=None, responses={200: NewWebhookSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk=None) -> Response:
        """A new signing secret, shown once. The old one keeps signing beside it (both
        signatures, space-separated) for CASELOAD_WEBHOOK_SECRET_OVERLAP_HOURS."""
        subscription, secret = webhook_rotate_secret(
            subscription=self.get_object(), actor=request.user
        )
        subscription.secret = secret
        return Response(NewWebhookSerializer(subscription).data)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def deliveries(self, request: Request, pk=None) -> Response:
        """The delivery log of this subscription, newest first (at most the last 100)."""
        subscription = self.get_object()
        return Response(DeliverySerializer(delivery_log(subscription), many=True).data)

    @extend_schema(
        request=ReplaySerializer,
        responses={
            200: DeliverySerializer,
            409: error_response("`webhook_disabled`: set `active` to true first."),
        },
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk=None) -> Response:
        """Send one delivery again, attempts starting over."""
        subscription = self.get_object()
        payload = ReplaySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        delivery = webhook_replay(
            subscription=subscription,
            delivery_id=payload.validated_data["delivery"],
            actor=request.user,
        )
        return Response(DeliverySerializer(delivery).data)
