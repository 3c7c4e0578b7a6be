import uuid
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .cursors import issue_cursor, read_cursor
from .errors import FieldNotFound


def _in_range(raw: str, highest: int) -> bool:
    # Length first: int() of thousands of digits is slow, and past 4300 it raises.
    return raw.isdecimal() and len(raw) <= len(str(highest)) and 0 < int(raw) <= highest


def _invalid_page_size() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {
            "page_size": [
                exceptions.ErrorDetail(
                    "Send a whole number from 1 to 1000.", code="invalid_page_size"
                )
            ]
        }
    )


class PageNumberPagination(pagination.PageNumberPagination):
    """Page numbers with `page_size` up to 1000; a malformed page or page size is named.

    A page size out of range is refused like a malformed one, never silently clamped. The
    envelope is `{"next", "previous", "results"}` with no count, so a page never runs
    `COUNT(*)` over the whole list: it reads `page_size + 1` rows, and the extra row says
    whether a next page exists. A page past the last (no rows, beyond page 1) answers 404
    `invalid_page`.
    """

    page_size_query_param = "page_size"
    max_page_size = 1000
    page_query_description = "Which page, from 1. A page past the last answers 404 `invalid_page`."

    @property
    def page_size_query_description(self) -> str:
        return (
            f"How many results per page, from 1 to {self.max_page_size} (default "
            f"{self.page_size}); anything else answers 400 `invalid_page_size`."
        )

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not _in_range(raw, self.max_page_size):
            raise _invalid_page_size()
        return super().get_page_size(request)

    def etag_state(self) -> dict:
        """What of the page's envelope decides its body, for the list's ETag."""
        return {"next": self.get_next_link(), "previous": self.get_previous_link()}

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param, "1")
        # Bounded like page_size: a number no list reaches is refused before any arithmetic.
        if not _in_range(raw, 10**12):
            raise FieldNotFound("Invalid page.", field="page", code="invalid_page")
        self.number = int(raw)
        offset = (self.number - 1) * size
        rows = list(queryset[offset : offset + size + 1])
        if not rows and self.number > 1:
            raise FieldNotFound("Invalid page.", field="page", code="invalid_page")
        self.has_next = len(rows) > size
        self.page = rows[:size]
        return self.page

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)


class KeysetPagination(pagination.BasePagination):
    """Newest first, one page at a time by an opaque `cursor` (never OFFSET), for tables that
    only grow: a page costs the same at the millionth row as at the first, and rows written
    while a client pages never shift what it sees.

    The queryset must be ordered by (`time_field` descending, `id` descending), a unique order.
    `{"next", "previous", "results"}`; `page_size` as for every list.
    """

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    max_page_size = 1000
    time_field = "occurred_at"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return settings.REST_FRAMEWORK["PAGE_SIZE"]
        if not _in_range(raw, self.max_page_size):
            raise _invalid_page_size()
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        position = self._decode(request.query_params.get(self.cursor_query_param))
        if position is None:
            rows = list(queryset[: size + 1])
            self.has_next, self.has_previous = len(rows) > size, False
            rows = rows[:size]
        elif position[2] == "next":
            rows = list(queryset.filter(self._beyond(position, "lt"))[: size + 1])
            self.has_next, self.has_previous = len(rows) > size, True
            rows = rows[:size]
        else:
            ascending = queryset.reverse().filter(self._beyond(position, "gt"))
            rows = list(ascending[: size + 1])
            self.has_previous, self.has_next = len(rows) > size, True
            rows = list(reversed(rows[:size]))
        self.rows = rows
        return rows

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link("next", self.rows[-1]) if self.has_next and self.rows else None,
                "previous": (
                    self._link("previous", self.rows[0])
                    if self.has_previous and self.rows
                    else None
                ),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The opaque position a `next` or `previous` link carries.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page, 1 to 1000.",
                "schema": {"type": "integer"},
            },
        ]

    def _beyond(self, position, lookup: str) -> Q:
        moment, pk, _ = position
        return Q(**{f"{self.time_field}__{lookup}": moment}) | Q(
            **{self.time_field: moment, f"pk__{lookup}": pk}
        )

    def _link(self, direction: str, row) -> str:
        moment = getattr(row, self.time_field).isoformat()
        token = issue_cursor([moment, str(row.pk), direction], scope=self._scope())
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token)

    def _scope(self) -> str:
        return f"keyset:{self.request.path}"

    def _decode(self, token: str | None):
        if token is None:
            return None
        moment, pk, direction = read_cursor(
            token, scope=self._scope(), parameter=self.cursor_query_param
        )
        return datetime.fromisoformat(moment), uuid.UUID(pk), direction
