"""The sync feed over HTTP: `updated_since` starts a walk, `cursor` links page it, `sync` resumes.

    GET /api/v1/appointments/?updated_since=2026-01-01T00:00:00Z   first page of a walk
    GET /api/v1/appointments/?cursor=<opaque>                      its next pages
    GET /api/v1/appointments/?sync=<opaque>                        later: what committed since

Without any of the three a list pages by number as before. The order, the horizon and why no
late commit is lost are in caseload/feed.py. Links are cursors (api/cursors.py: signed, so they
cannot be forged or edited, and encrypted, so what they carry cannot be read from them), and carry
the walk's filters, its horizon and a fingerprint of the caller's access; a link older
than CASELOAD_SYNC_TOKEN_MAX_AGE_DAYS, or issued before the caller's access changed (a consent
revoked, a caseload changed), answers 410 `sync_expired`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from caseload.feed import Position, feed_horizon, feed_page, feed_start
from caseload.models import is_integration
from caseload.permissions import access_fingerprint

from .cursors import CursorExpired, issue_cursor, read_cursor
from .pagination import PageNumberPagination

CURSOR, SYNC, UPDATED_SINCE = "cursor", "sync", "updated_since"


class SyncExpired(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "sync_expired"
    default_detail = (
        "This link can no longer be honoured; walk again with updated_since from a time of "
        "your choice."
    )

    def __init__(self, *, field: str, detail: str | None = None):
        super().__init__(detail)
        self.field = field


@dataclass
class Walk:
    """Where a feed request reads: rows after `after`, below `horizon`, with `filters`."""

    horizon: int
    after: Position
    filters: dict[str, str] = field(default_factory=dict)
    from_link: bool = False


def _who(user) -> str:
    if is_integration(user):
        return f"client:{user.client.pk}"
    return f"staff:{getattr(user, 'pk', '')}"


def _problem(detail: str, code: str) -> list[exceptions.ErrorDetail]:
    return [exceptions.ErrorDetail(detail, code=code)]


class FeedPagination(PageNumberPagination):
    """Page numbers, or the sync feed when `updated_since`, `cursor` or `sync` is sent."""

    def __init__(self):
        super().__init__()
        self.walk: Walk | None = None
        # Set by the view to read a walk's rows as `FeedRow`s of these columns, not instances.
        self.columns: tuple[str, ...] | None = None
        self.rows: list = []
        self.next_position: Position | None = None

    # Parameters ------------------------------------------------------------------------
    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": CURSOR,
                "required": False,
                "in": "query",
                "description": "The opaque position of a sync walk, from a `next` link. "
                "Send it alone (with `page_size` at most).",
                "schema": {"type": "string"},
            },
            {
                "name": SYNC,
                "required": False,
                "in": "query",
                "description": "The opaque token of a `next_sync` link: walks what committed "
                "since the walk that gave it. 410 `sync_expired` when it can no longer be "
                "honoured.",
                "schema": {"type": "string"},
            },
        ]

    def query_errors(self, request: Request, view) -> dict[str, list]:
        """Combinations a walk refuses, and links this server did not issue."""
        params = request.query_params
        errors: dict[str, list] = {}
        link = [name for name in (CURSOR, SYNC) if name in params]
        if len(link) == 2:
            errors[SYNC] = _problem("Send cursor or sync, not both.", "conflicting_parameter")
        elif link:
            for name in params:
                if name not in (*link, self.page_size_query_param):
                    errors[name] = _problem(
                        "A cursor or sync link carries its walk's filters; send only page_size "
                        "with it.",
                        "not_with_cursor",
                    )
        elif UPDATED_SINCE in params and self.page_query_param in params:
            errors[self.page_query_param] = _problem(
                "A walk started by updated_since pages through its next links, not numbers.",
                "not_with_updated_since",
            )
        if not errors and len(link) == 1:
            try:
                self.walk = self._walk_from_link(request, view, link[0])
            except exceptions.ValidationError as exc:
                errors.update(exc.detail)
        return errors

    # Reading a walk ----------------------------------------------------------------------
    def walk_for(self, request: Request) -> Walk | None:
        """The walk this request reads (a link's, read when the query was checked), or None for
        a page-number list."""
        if self.walk is not None:
            return self.walk
        if UPDATED_SINCE not in request.query_params:
            return None
        filters = {
            name: value
            for name, value in request.query_params.items()
            if name not in (self.page_size_query_param, self.page_query_param)
        }
        self.walk = Walk(horizon=feed_horizon(), after=Position(seq=-1), filters=filters)
        return self.walk

    def _walk_from_link(self, request: Request, view, name: str) -> Walk:
        max_age = timedelta(days=settings.CASELOAD_SYNC_TOKEN_MAX_AGE_DAYS)
        scope = f"feed:{name}:{view.model._meta.model_name}:{_who(request.user)}"
        try:
            data = read_cursor(
                request.query_params[name], scope=scope, parameter=name, max_age=max_age
            )
        except CursorExpired as exc:
            raise SyncExpired(field=name) from exc
        if data.get("x") != access_fingerprint(request.user):
            raise SyncExpired(
                field=name,
                detail="Your access changed since this link was issued; walk again with "
                "updated_since from a time of your choice.",
            )
        after = Position(seq=int(data["s"]), id=data.get("i"))
        horizon = int(data["h"]) if name == CURSOR else feed_horizon()
        return Walk(horizon=horizon, after=after, filters=dict(data["f"]), from_link=True)

    def _link(self, request: Request, view, name: str, **data) -> str:
        # The list, the kind of link and the caller are in the scope: a link works only where
        # and for whom it was issued.
        scope = f"feed:{name}:{view.model._meta.model_name}:{_who(request.user)}"
        query = {name: issue_cursor({"x": access_fingerprint(request.user), **data}, scope=scope)}
        size = request.query_params.get(self.page_size_query_param)
        if size is not None:
            query[self.page_size_query_param] = size
        return request.build_absolute_uri(request.path) + "?" + urlencode(query)

    # Paging --------------------------------------------------------------------------------
    def paginate_queryset(self, queryset, request, view=None):
        if self.walk_for(request) is None:
            return super().paginate_queryset(queryset, request, view)
        self.request, self.view = request, view
        self.rows, self.next_position = feed_page(
            queryset,
            after=self.walk.after,
            horizon=self.walk.horizon,
            size=self.get_page_size(request),
            columns=self.columns,
        )
        return self.rows

    def etag_state(self) -> dict:
        if self.walk is None:
            return super().etag_state()
        position = self.next_position
        return {"walk_next": [position.seq, position.id] if position else None}

    def get_paginated_response(self, data):
        if self.walk is None:
            return super().get_paginated_response(data)
        return Response(self.feed_envelope() | {"results": data})

    def feed_envelope(self) -> dict:
        """`next`, `previous` and `next_sync` of the current feed page."""
        walk, request, view = self.walk, self.request, self.view
        next_link = next_sync = None
        if self.next_position is not None:
            next_link = self._link(
                request,
                view,
                CURSOR,
                h=walk.horizon,
                s=self.next_position.seq,
                i=self.next_position.id,
                f=walk.filters,
            )
        else:
            start = feed_start(walk.horizon)
            sync_filters = {k: v for k, v in walk.filters.items() if k != UPDATED_SINCE}
            next_sync = self._link(request, view, SYNC, s=start.seq, i=None, f=sync_filters)
        return {"next": next_link, "previous": None, "next_sync": next_sync}

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["properties"]["next_sync"] = {
            "type": "string",
            "nullable": True,
            "format": "uri",
            "description": "Sync walks only (`updated_since`, `cursor`, `sync`): on the last "
            "page, the link that later walks every change committed since.",
        }
        return paged
