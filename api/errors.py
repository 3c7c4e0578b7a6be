"""DRF's exception handler: every failure in the one error shape (api/refusals.py)."""

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
from .refusals import error_body, field_error, unavailable


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
        errors = [field_error(field, code, message) for field, code, message in exc.field_errors()]
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
        response.data = error_body("validation_error", INVALID_INPUT, errors)
        return response
    code = getattr(exc.detail, "code", None) or "error"
    field = getattr(exc, "field", None) or _HEADER_FIELDS.get(type(exc))
    errors = [field_error(field, code, str(exc.detail))] if field else []
    response.data = error_body(code, str(exc.detail), errors)
    return response


_HEADER_FIELDS = {exceptions.UnsupportedMediaType: "Content-Type"}


def _answer_in_json(request) -> None:
    """An error is JSON whatever the client asked for (an SVG chart, say)."""
    if request is None or isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
        return
    request.accepted_renderer = JSONRenderer()
    request.accepted_media_type = JSONRenderer.media_type


def _response(status_code: int, code: str, detail: str, errors: list[dict]) -> Response:
    return Response(error_body(code, detail, errors), status=status_code)


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
        yield field_error(prefix or None, getattr(detail, "code", "invalid"), str(detail))
