"""Error answers given outside DRF (WSGI wrappers, middleware), in the API's error shape."""

from __future__ import annotations

import json
from collections.abc import Callable


def error_payload(code: str, detail: str, field: str | None = None) -> dict:
    errors = [{"field": field, "code": code, "detail": detail}] if field else []
    return {"code": code, "detail": detail, "errors": errors}


def refuse(
    start_response: Callable,
    status: str,
    *,
    code: str,
    detail: str,
    field: str,
) -> list[bytes]:
    """Answer a WSGI request with one JSON error, without reading its body."""
    body = json.dumps(error_payload(code, detail, field)).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
