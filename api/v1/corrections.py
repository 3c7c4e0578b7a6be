"""`POST <record>/{id}/entered-in-error/`: the correction every clinical record supports."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.permissions import CHANGE
from caseload.services.records import record_mark_entered_in_error

from .base import expected_version
from .strict import StrictSerializerMixin


class EnteredInErrorSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class EnteredInErrorMixin:
    action_permissions = {"entered_in_error": CHANGE}
    # The correcting service: the generic one, or a record's own that wraps it.
    mark_entered_in_error = staticmethod(record_mark_entered_in_error)

    @extend_schema(request=EnteredInErrorSerializer)
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk=None) -> Response:
        """Mark the record entered in error, with the reason: it stays in lists and history.

        A record already entered in error answers 409 `entered_in_error`.
        """
        instance = self.get_object()
        version = expected_version(request)
        payload = EnteredInErrorSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = self.mark_entered_in_error(
            instance=instance,
            actor=request.user,
            reason=payload.validated_data["reason"],
            expected_version=version,
        )
        return self.respond_written(updated)
