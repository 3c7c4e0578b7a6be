"""Error answers given outside DRF (WSGI wrappers, middleware), in the API's error shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError


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
