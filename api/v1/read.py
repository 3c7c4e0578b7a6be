"""The base of every viewset that is not a patient record's: audited (api/audit.py), strict
about its query string (api/v1/query.py), listing and reading."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from api.audit import AuditedViewMixin

from .query import StrictQueryMixin


class ReadViewSet(
    AuditedViewMixin,
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and retrieve; subclasses add their writes and actions."""
