"""Withdrawal and break-the-glass alerts addressed to a staff member."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.schema import error_response
from caseload.models import Alert
from caseload.selectors.people import alerts_for
from caseload.services.alerts import alert_acknowledge

from .own_lists import OwnListViewSet


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


class AlertViewSet(OwnListViewSet):
    """Withdrawal alerts addressed to the caller, newest first."""

    model = Alert
    selector = staticmethod(alerts_for)
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
