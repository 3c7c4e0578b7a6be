"""Refuse a request body larger than `CASELOAD_MAX_BODY_BYTES` with 413, before reading it.

DRF's parsers read the request stream directly, so Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (checked
only by `request.body` and form parsing) never stops a large JSON body: it was read and parsed in
full. Two guards hold the limit:

- `limit_request_body`, the WSGI wrapper gunicorn and runserver run (config/wsgi.py): a declared
  Content-Length over the limit is refused unread; a chunked body (no Content-Length) is read at
  most one byte past the limit, refused if it goes past, and otherwise handed on with its length,
  so Django can read it.
- `RequestBodyLimitMiddleware`, for requests that reach Django another way (the test client,
  another server): the same Content-Length check. Without a Content-Length Django reads no body.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .refusals import error_payload, refuse

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
READ_SIZE = 64 * 1024


def max_body_bytes() -> int:
    return settings.CASELOAD_MAX_BODY_BYTES


def declared_length(environ: dict) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _is_chunked(environ: dict) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_at_most(stream, limit: int) -> bytes:
    """Up to `limit + 1` bytes: enough to tell that a body is over the limit, never more."""
    chunks, total = [], 0
    while total <= limit:
        chunk = stream.read(min(READ_SIZE, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _too_large_detail(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


def limit_request_body(app: WSGIApp) -> WSGIApp:
    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        limit = max_body_bytes()
        length = declared_length(environ)
        if length is None and _is_chunked(environ):
            body = _read_at_most(environ["wsgi.input"], limit)
            if len(body) <= limit:
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                return app(environ, start_response)
        elif length is None or length <= limit:
            return app(environ, start_response)
        return refuse(
            start_response,
            "413 Content Too Large",
            code="payload_too_large",
            detail=_too_large_detail(limit),
            field="body",
        )

    return guarded


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = max_body_bytes()
        length = declared_length(request.META)
        if length is not None and length > limit:
            payload = error_payload("payload_too_large", _too_large_detail(limit), "body")
            return JsonResponse(payload, status=413)
        return self.get_response(request)
