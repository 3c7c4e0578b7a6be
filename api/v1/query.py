"""Query parameters are checked like bodies: an unknown or repeated one is a 400 naming it.

A list reads its filters (the view's filterset) and the paginator's `page` and `page_size`;
any view or action may declare more in `query_parameters` (the withdrawal trend reads
`format`). These are exactly the parameters the OpenAPI schema documents. Everything else is
refused, so `?updated_snce=` never silently returns everything.
"""

from __future__ import annotations

from typing import ClassVar

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework import exceptions
from rest_framework.request import Request

from api.permissions import handles

UNKNOWN = exceptions.ErrorDetail("Unknown query parameter.", code="unknown_parameter")
REPEATED = exceptions.ErrorDetail("Send this parameter once.", code="repeated_parameter")
FORMAT = "format"


class StrictQueryMixin:
    """For every API view: refuse query parameters the view does not read.

    Listed after `AuditedViewMixin` in a view's bases, so the audit knows the view first."""

    # Extra parameters this view or action reads (an `@action(query_parameters=...)` sets it).
    query_parameters: ClassVar[tuple[str, ...]] = ()

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication and permissions come first
        if not handles(self, request):
            return  # dispatch answers 405 next, whatever the query string
        errors = query_errors(self, request)
        if errors:
            raise exceptions.ValidationError(errors)

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A `?format=` the view does not serve is answered as a query error naming `format`
        # (below), not as DRF's bare 404.
        return super().perform_content_negotiation(
            request, force=force or FORMAT in request.query_params
        )


def query_errors(view, request: Request) -> dict[str, list]:
    """Every problem with the query string at once: unknown, repeated, malformed values."""
    allowed, multiple = _parameters(view)
    params = request.query_params
    errors: dict[str, list] = {}
    for name in params:
        if name not in allowed:
            errors[name] = [UNKNOWN]
        elif len(params.getlist(name)) > 1 and name not in multiple:
            errors[name] = [REPEATED]
    if FORMAT in params and FORMAT in allowed and FORMAT not in errors:
        formats = [renderer.format for renderer in view.get_renderers()]
        if params[FORMAT] not in formats:
            message = f"Not an allowed value. Allowed values: {', '.join(formats)}."
            errors[FORMAT] = [exceptions.ErrorDetail(message, code="invalid_choice")]
    if _is_list(view):
        for name, problems in _value_errors(view, request).items():
            errors.setdefault(name, problems)
    return errors


def _is_list(view) -> bool:
    return getattr(view, "action", None) == "list"


def _filterset_class(view):
    if not _is_list(view):
        return None
    return getattr(view, "filterset_class", None)


def _parameters(view) -> tuple[set[str], set[str]]:
    """(every parameter the view reads, those that may be repeated)."""
    allowed = set(view.query_parameters)
    multiple: set[str] = set()
    filterset_class = _filterset_class(view)
    if filterset_class is not None:
        allowed |= set(filterset_class.base_filters)
        multiple |= {
            name
            for name, one in filterset_class.base_filters.items()
            if isinstance(one, django_filters.MultipleChoiceFilter)
        }
    paginator = getattr(view, "paginator", None) if _is_list(view) else None
    if paginator is not None:
        allowed |= {param["name"] for param in paginator.get_schema_operation_parameters(view)}
    return allowed, multiple


def _value_errors(view, request: Request) -> dict[str, list]:
    """Malformed filter values and page size, checked here to be reported with the rest."""
    errors: dict[str, list] = {}
    filterset_class = _filterset_class(view)
    if filterset_class is not None:
        errors |= _unread_values(filterset_class, request)
        filterset = DjangoFilterBackend().get_filterset(request, view.get_queryset(), view)
        if not filterset.is_valid():
            for name, problems in translate_validation(filterset.errors).detail.items():
                errors.setdefault(name, problems)
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        try:
            paginator.get_page_size(request)
        except exceptions.ValidationError as exc:
            errors |= exc.detail
        if hasattr(paginator, "query_errors"):  # the sync feed's combinations and links
            for name, problems in paginator.query_errors(request, view).items():
                errors.setdefault(name, problems)
    return errors


BLANK = exceptions.ErrorDetail("Give a value, or leave the parameter out.", code="blank")
# A boolean query parameter as the document types it (django-filter would also read `True`,
# and ignore `1` or `yes` without a word).
BOOLEANS = frozenset({"true", "false"})
NOT_BOOLEAN = exceptions.ErrorDetail("Must be `true` or `false`.", code="invalid")


def _unread_values(filterset_class, request: Request) -> dict[str, list]:
    """Values django-filter would silently ignore, filtering nothing: `?patient=`, `?reviewed=x`.

    A filter left empty, or a boolean that is neither true nor false, would answer the whole
    list as if it were filtered. Only free-text filters may be empty.
    """
    errors: dict[str, list] = {}
    for name, one in filterset_class.base_filters.items():
        for value in request.query_params.getlist(name):
            if value == "" and type(one) is not django_filters.CharFilter:
                errors[name] = [BLANK]
            elif isinstance(one, django_filters.BooleanFilter) and value not in BOOLEANS:
                errors[name] = [NOT_BOOLEAN]
    return errors
