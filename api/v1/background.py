"""What background work leaves for people and integrations: reminders sent, follow-ups, alerts,
and webhook subscriptions with their delivery log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.schema import error_response
from caseload.models import (
    Alert,
    FollowUp,
    Reminder,
    Role,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from caseload.permissions import is_staff_member
from caseload.services.alerts import alert_acknowledge
from caseload.services.follow_ups import follow_up_done
from caseload.services.webhooks import (
    webhook_create,
    webhook_replay,
    webhook_rotate_secret,
    webhook_update,
)

from .base import AuditedReadMixin, StrictSerializerMixin
from .query import StrictQueryMixin
from .reference import IsProgramStaff


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = (
            "id",
            "lead_minutes",
            "appointment_start",
            "due_at",
            "status",
            "channel",
            "attempts",
            "sent_at",
            "last_error",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        fields = (
            "id",
            "patient",
            "appointment",
            "treatment_plan",
            "due_on",
            "reason",
            "status",
            "created_at",
            "done_at",
        )
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = (
            "id",
            "patient",
            "kind",
            "assessment",
            "break_glass",
            "status",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "closed_at",
            "closed_reason",
        )
        read_only_fields = fields


class OwnListViewSet(
    AuditedReadMixin,
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own work items; each page and each read is audited (they name patients)."""

    permission_classes = [IsProgramStaff]
    model: type
    owner_field: str

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.model.objects.none()
        return self.model.objects.filter(**{self.owner_field: self.request.user})


class FollowUpViewSet(OwnListViewSet):
    """The caller's own follow-ups (after a missed appointment, or a treatment plan review that
    fell due), newest first."""

    model = FollowUp
    owner_field = "staff"
    serializer_class = FollowUpSerializer

    @extend_schema(
        request=None,
        responses={200: FollowUpSerializer, 409: error_response("`already_done`.")},
    )
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk=None) -> Response:
        """Mark the follow-up done; 409 `already_done` the second time."""
        follow_up = follow_up_done(follow_up=self.get_object(), actor=request.user)
        return Response(FollowUpSerializer(follow_up).data)


class AlertViewSet(OwnListViewSet):
    """Withdrawal alerts addressed to the caller, newest first."""

    model = Alert
    owner_field = "recipient"
    serializer_class = AlertSerializer

    @extend_schema(
        request=None,
        responses={200: AlertSerializer, 409: error_response("`already_acknowledged`.")},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk=None) -> Response:
        """Acknowledge the alert; a new finding of the same kind can then raise a new one. A
        closed alert (its assessment was entered in error) answers 409 `alert_closed`."""
        alert = alert_acknowledge(alert=self.get_object(), actor=request.user)
        return Response(AlertSerializer(alert).data)


# Webhooks -------------------------------------------------------------------------------------
class IsSupervisor(permissions.BasePermission):
    """Supervisors only; a method with no handler passes here and answers 405."""

    def has_permission(self, request: Request, view) -> bool:
        if not is_staff_member(request.user):
            return False
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True
        return request.user.role == Role.SUPERVISOR


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
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook subscriptions of the caller's program (supervisors)."""

    permission_classes = [IsSupervisor]
    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(program_id=self.request.user.program_id)

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
        rows = subscription.deliveries.select_related("event").order_by("-created_at")[:100]
        return Response(DeliverySerializer(rows, many=True).data)

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
