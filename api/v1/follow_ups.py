"""Follow-ups: what background work leaves a counselor to do (after a missed appointment)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.schema import error_response
from caseload.models import FollowUp
from caseload.selectors.people import follow_ups_of
from caseload.services.follow_ups import follow_up_done

from .own_lists import OwnListViewSet


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


class FollowUpViewSet(OwnListViewSet):
    """The caller's own follow-ups (after a missed appointment, or a treatment plan review that
    fell due), newest first."""

    model = FollowUp
    selector = staticmethod(follow_ups_of)
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
