"""The caller's own work items, which name patients: every page and every read is audited."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from api.audit import AuditedViewMixin
from api.permissions import IsProgramStaff
from caseload.models import Staff

from .base import AuditedReadMixin
from .query import StrictQueryMixin


class OwnListViewSet(
    AuditedReadMixin,
    AuditedViewMixin,
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own work items; each page and each read is audited (they name patients)."""

    permission_classes = [IsProgramStaff]
    model: type
    selector: Callable[[Staff], QuerySet]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.model.objects.none()
        return type(self).selector(self.request.user)
