"""One error shape for every failure:

{"code": "validation_error", "detail": "...",
 "errors": [{"field": "items.restlessness", "code": "invalid_choice", "detail": "..."}]}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from caseload.errors import DomainError, LockedOut

from .audit import audit_refusal
from .refusals import unavailable


class FieldNotFound(exceptions.NotFound):
    """A 404 caused by one query parameter, e.g. a page past the end."""

    def __init__(self, detail: str, *, field: str, code: str):
        super().__init__(detail, code=code)
        self.field = field


# Every 400 about the request's fields shares one top-level code and detail; the specific
# reasons sit on each field.
INVALID_INPUT = "Invalid input."


def exception_handler(exc, context):
    response = _error_response(exc, context)
    if response is not None:
        audit_refusal(exc, context, response.status_code)
    return response


def _error_response(exc, context):
    _answer_in_json(context.get("request"))
    if isinstance(exc, DomainError):
        errors = [_error(field, code, message) for field, code, message in exc.field_errors()]
        if exc.status == 400:
            return _response(
                400, "validation_error", INVALID_INPUT if errors else exc.message, errors
            )
        response = _response(exc.status, exc.code, exc.message, errors)
        if isinstance(exc, LockedOut):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DataError):
        return _response(400, "validation_error", "A value is out of range for its field.", [])
    fault = unavailable(exc)
    if fault is not None:
        response = Response(fault.payload(), status=fault.status)
        response["Retry-After"] = str(fault.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail, ""))
        response.data = {"code": "validation_error", "detail": INVALID_INPUT, "errors": errors}
        return response
    code = getattr(exc.detail, "code", None) or "error"
    field = getattr(exc, "field", None) or _HEADER_FIELDS.get(type(exc))
    errors = [_error(field, code, str(exc.detail))] if field else []
    response.data = {"code": code, "detail": _clean(str(exc.detail)), "errors": errors}
    return response


_HEADER_FIELDS = {exceptions.UnsupportedMediaType: "Content-Type"}


def _answer_in_json(request) -> None:
    """An error is JSON whatever the client asked for (an SVG chart, say)."""
    if request is None or isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
        return
    request.accepted_renderer = JSONRenderer()
    request.accepted_media_type = JSONRenderer.media_type


def _response(status_code: int, code: str, detail: str, errors: list[dict]) -> Response:
    return Response({"code": code, "detail": _clean(detail), "errors": errors}, status=status_code)


def _error(field: str | None, code: str, detail: str) -> dict:
    return {"field": _clean(field) if field else field, "code": code, "detail": _clean(detail)}


def _clean(text: str) -> str:
    """Error messages may echo client input; lone surrogates in it must not break the JSON."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _flatten(detail, prefix: str):
    """Yield one error per failing field, nested fields joined with dots."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else ""
            yield from _flatten(value, f"{prefix}.{name}".strip(".") if name else prefix)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                yield from _flatten(value, f"{prefix}.{index}".strip("."))
            else:
                yield from _flatten(value, prefix)
    else:
        yield _error(prefix or None, getattr(detail, "code", "invalid"), str(detail))
