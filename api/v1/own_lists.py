"""The caller's own work items, which name patients: every page and every read is audited."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from api.permissions import IsProgramStaff
from caseload.models import Staff

from .base import AuditedReadMixin
from .read import ReadViewSet


class OwnListViewSet(AuditedReadMixin, ReadViewSet):
    """The caller's own work items; each page and each read is audited (they name patients)."""

    permission_classes = [IsProgramStaff]
    model: type
    selector: Callable[[Staff], QuerySet]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.model.objects.none()
        return type(self).selector(self.request.user)
