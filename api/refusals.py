"""The API's one error shape, and the answers given outside DRF (WSGI wrappers, middleware).

{"code": "validation_error", "detail": "...",
 "errors": [{"field": "items.restlessness", "code": "invalid_choice", "detail": "..."}]}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError


def error_body(code: str, detail: str, errors: Sequence[dict] = ()) -> dict:
    """The body of every error answer: DRF's handler, middleware and WSGI wrappers build it here."""
    return {"code": code, "detail": clean_text(detail), "errors": list(errors)}


def field_error(field: str | None, code: str, detail: str) -> dict:
    """One entry of `errors`: which field (dotted for nested ones), its stable code, why."""
    return {
        "field": clean_text(field) if field else field,
        "code": code,
        "detail": clean_text(detail),
    }


def error_payload(code: str, detail: str, field: str | None = None) -> dict:
    """An error about one field (or none) whose code is the answer's code."""
    return error_body(code, detail, [field_error(field, code, detail)] if field else [])


def clean_text(text: str) -> str:
    """Error messages may echo client input; lone surrogates in it must not break the JSON."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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


# SQLSTATEs of a statement PostgreSQL cancelled: statement_timeout (57014), lock_timeout (55P03).
TIMED_OUT_STATES = {"57014", "55P03"}


@dataclass(frozen=True)
class Unavailable:
    """A request that cannot be served now: 503 with `Retry-After`, never a 500.

    After a database answer nothing of the request was committed (its transaction rolled back or
    never began); a request stopped at the request timeout rolled back whatever transaction it
    was in.
    """

    code: str
    detail: str
    retry_after: int
    status: int = 503

    def payload(self) -> dict:
        return error_payload(self.code, self.detail)


DATABASE_TIMEOUT = Unavailable(
    "database_timeout", "The database did not answer in time; try again shortly.", 1
)
REQUEST_TIMEOUT = Unavailable(
    "request_timeout", "The request took too long and was stopped; try again shortly.", 5
)
DATABASE_UNAVAILABLE = Unavailable(
    "database_unavailable", "The database is unavailable; try again shortly.", 5
)


class RequestTimedOut(Exception):
    """Raised into a request gunicorn's worker timeout stopped (config/gunicorn.py)."""


def unavailable(exc: BaseException | None) -> Unavailable | None:
    """What a lost connection, an unreachable server or a cancelled statement means to a client.

    Django raises OperationalError or InterfaceError for each; the driver error it wraps carries
    the SQLSTATE that tells a cancelled statement from a database that is away.
    """
    if isinstance(exc, RequestTimedOut):
        return REQUEST_TIMEOUT
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    if getattr(exc.__cause__, "sqlstate", None) in TIMED_OUT_STATES:
        return DATABASE_TIMEOUT
    return DATABASE_UNAVAILABLE
