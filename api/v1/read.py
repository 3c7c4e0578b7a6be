"""The base of every viewset that is not a patient record's: audited (api/audit.py), strict
about its query string (api/v1/query.py), listing and reading."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from api.audit import AuditedViewMixin
from api.feed import CURSOR, SYNC, UPDATED_SINCE
from caseload.routing import allow_replica_reads

from .query import StrictQueryMixin

# A sync walk's horizon is the primary's; its rows must come from the same server, or a row the
# replica has not replayed yet would fall below the horizon unseen and never be served.
SYNC_WALK_PARAMETERS = (UPDATED_SINCE, CURSOR, SYNC)


class ReadViewSet(
    AuditedViewMixin,
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and retrieve; subclasses add their writes and actions."""

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # Authenticated and allowed, read from the primary: a staff member's plain read may now
        # take its records from the replica (caseload/routing.py says which, and when not).
        if request.method in ("GET", "HEAD") and not any(
            name in request.query_params for name in SYNC_WALK_PARAMETERS
        ):
            allow_replica_reads(request.user)
