"""The baseline's views: a read-only appointments list as the DRF tutorial writes it."""

from __future__ import annotations

from django.http import JsonResponse
from rest_framework import serializers, viewsets

from caseload.models import Appointment


class AppointmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appointment
        fields = (
            "id",
            "patient",
            "staff",
            "kind",
            "status",
            "start",
            "end",
            "location",
            "version",
            "updated_at",
        )


class AppointmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AppointmentSerializer

    def get_queryset(self):
        queryset = Appointment.objects.filter(patient__program_id=self.request.user.program_id)
        since = self.request.query_params.get("updated_since")
        if since:
            queryset = queryset.filter(updated_at__gte=since)
        return queryset.order_by("change_seq", "id")


def bare(request):
    """A bare Django view: what a request costs with no framework above Django."""
    return JsonResponse({"ok": True})
