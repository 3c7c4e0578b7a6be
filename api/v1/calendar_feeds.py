"""A staff member's own calendar feeds: create (the link is shown once), list, revoke."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import IsProgramStaff
from caseload.models import CalendarFeed
from caseload.services.calendar_feeds import (
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feeds_of,
)
from caseload.services.tokens import token_of

from .read import ReadViewSet
from .strict import StrictSerializerMixin


class CalendarFeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarFeed
        fields = ("id", "created_at", "revoked_at")
        read_only_fields = fields


class NewCalendarFeedSerializer(StrictSerializerMixin, serializers.Serializer):
    """A feed is always of the caller's own appointments; making one takes their password."""

    password = serializers.CharField(
        write_only=True,
        max_length=4096,
        help_text="The caller's own password: a calendar link needs it, as a new token does.",
        style={"input_type": "password"},
    )


class IssuedCalendarFeedSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.URLField(
        read_only=True,
        help_text="The iCalendar link (text/calendar, no header needed). Shown once.",
    )


class CalendarFeedViewSet(ReadViewSet):
    """The caller's own calendar feeds: private iCalendar links to their appointments, with no
    patient name or clinical word in any event."""

    permission_classes = [IsProgramStaff]
    serializer_class = CalendarFeedSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return CalendarFeed.objects.none()
        return calendar_feeds_of(self.request.user)

    @extend_schema(request=NewCalendarFeedSerializer, responses={201: IssuedCalendarFeedSerializer})
    def create(self, request: Request) -> Response:
        payload = NewCalendarFeedSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        feed, secret = calendar_feed_create(
            staff=request.user,
            password=payload.validated_data["password"],
            via=request.path,
            minted_with=token_of(request.auth),
        )
        url = request.build_absolute_uri(f"/calendar/{secret}.ics")
        return Response({"id": str(feed.pk), "url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CalendarFeedSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk=None) -> Response:
        """The feed's link answers 404 from now on."""
        feed = calendar_feed_revoke(feed=self.get_object(), actor=request.user)
        return Response(CalendarFeedSerializer(feed).data)
