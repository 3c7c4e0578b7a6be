from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.models import Appointment, AppointmentStatus, AuditAction, Reminder
from caseload.permissions import (
    CHANGE,
    INTEGRATION_HIDDEN_APPOINTMENT_FIELDS,
    hidden_appointment_fields,
)
from caseload.selectors.records import appointment_list
from caseload.services.appointments import (
    appointment_create,
    appointment_transition,
    appointment_update,
)
from caseload.services.audit import audit_read

from ..feed import FeedPagination
from .base import RECORD_META, RecordViewSet, expected_version
from .fields import (
    DateTimeField,
    PlausibleDateTimeFilter,
    ProgramStaffField,
    VisiblePatientField,
    validate_plausible_datetime,
)
from .filters import PatientRecordFilter
from .strict import StrictSerializerMixin


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


class AppointmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    patient = VisiblePatientField()
    staff = ProgramStaffField()
    start = DateTimeField(validators=[validate_plausible_datetime])
    end = DateTimeField(validators=[validate_plausible_datetime])
    status = serializers.ChoiceField(
        choices=[("booked", "Booked")],
        required=False,
        help_text="Always booked when created; afterwards it moves only through the arrive, "
        "fulfil, cancel and no-show endpoints.",
    )
    overlap_allowed = serializers.BooleanField(
        required=False,
        help_text="True when the booking deliberately overlaps the staff member's other "
        "appointments (a group session); otherwise an overlap answers 409.",
    )

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
            "overlap_allowed",
            "cancellation_reason",
            "reminder_due_at",
            *RECORD_META,
        )
        immutable_fields = ("patient", "status")
        # Left out of an integration client's answers; the document marks them optional.
        integration_hidden_fields = INTEGRATION_HIDDEN_APPOINTMENT_FIELDS
        read_only_fields = (
            "id",
            "cancellation_reason",
            "reminder_due_at",
            *RECORD_META,
        )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            for name in hidden_appointment_fields(request.user):
                fields.pop(name, None)
        return fields


class AppointmentFilter(PatientRecordFilter):
    staff = django_filters.UUIDFilter()
    start_after = PlausibleDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = PlausibleDateTimeFilter(field_name="start", lookup_expr="lt")
    updated_since = PlausibleDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Starts a sync walk over appointments changed at or after this time (the "
        "epoch for a full sync): pages link by `cursor`, the last one gives `next_sync`.",
    )

    class Meta:
        model = Appointment
        fields = ("patient", "staff", "status", "kind")


class CancelSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class AppointmentViewSet(RecordViewSet):
    """Appointments. Created booked; each status move is its own endpoint."""

    model = Appointment
    selector = staticmethod(appointment_list)
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    pagination_class = FeedPagination
    action_permissions = {"arrive": CHANGE, "fulfil": CHANGE, "cancel": CHANGE, "no_show": CHANGE}

    # Status moves: one endpoint each; 409 `illegal_transition` when the status does not allow it.
    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, pk=None) -> Response:
        """The patient has arrived. 409 `illegal_transition` when the status does not allow it."""
        return self._move(request, AppointmentStatus.ARRIVED)

    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request: Request, pk=None) -> Response:
        """The visit took place. 409 `illegal_transition` when the status does not allow it."""
        return self._move(request, AppointmentStatus.FULFILLED)

    @extend_schema(request=CancelSerializer, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        """Cancel, with a reason. 409 `illegal_transition` when the status does not allow it."""
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._move(request, AppointmentStatus.CANCELLED, payload.validated_data["reason"])

    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="no-show", url_name="no-show")
    def no_show(self, request: Request, pk=None) -> Response:
        """The patient did not come (after the start). 409 `illegal_transition` when the status
        does not allow it."""
        return self._move(request, AppointmentStatus.NOSHOW)

    def _move(self, request: Request, to: str, reason: str = "") -> Response:
        appointment = self.get_object()
        updated = appointment_transition(
            appointment=appointment,
            actor=request.user,
            to=to,
            reason=reason,
            expected_version=expected_version(request),
        )
        return self.respond_written(updated)

    @extend_schema(responses=ReminderSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def reminders(self, request: Request, pk=None) -> Response:
        """The appointment's reminders: one per start and lead time, with each send attempt's
        outcome. A rescheduled appointment lists the cancelled reminders of its old start."""
        appointment = self.get_object()
        audit_read(
            actor=request.user,
            model=Appointment,
            objects=[appointment],
            action=AuditAction.READ,
            detail={"view": "reminders"},
        )
        return Response(ReminderSerializer(appointment.reminders.all(), many=True).data)

    def create_record(self, *, actor, data):
        patient = data.pop("patient")
        return appointment_create(actor=actor, patient=patient, fields=data)

    def update_record(self, *, instance, actor, changes, expected_version):
        return appointment_update(
            appointment=instance, actor=actor, changes=changes, expected_version=expected_version
        )
