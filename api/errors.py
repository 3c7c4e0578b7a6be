"""One error shape for every failure:

{"code": "validation_error", "detail": "...",
 "errors": [{"field": "items.restlessness", "code": "invalid_choice", "detail": "..."}]}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from caseload.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        errors = [_error(field, code, message) for field, code, message in exc.field_errors()]
        # Every 400 shares one top-level code; the specific reason sits on each field.
        code = "validation_error" if exc.status == 400 else exc.code
        return _response(exc.status, code, exc.message, errors)
    if isinstance(exc, DataError):
        return _response(400, "validation_error", "A value is out of range for its field.", [])
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail, ""))
        response.data = {"code": "validation_error", "detail": "Invalid input.", "errors": errors}
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or "error"
    response.data = {"code": code, "detail": str(detail), "errors": []}
    return response


def _response(status_code: int, code: str, detail: str, errors: list[dict]) -> Response:
    return Response({"code": code, "detail": detail, "errors": errors}, status=status_code)


def _error(field: str | None, code: str, detail: str) -> dict:
    return {"field": field, "code": code, "detail": detail}


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
