"""What the domain knows about the request it runs in: its id, the integration client making it,
the status a successful write will answer, and values worth computing once per request.

The API sets it for each request (api/audit.py); commands and tasks run without one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestContext:
    request_id: str = ""
    client: uuid.UUID | None = None
    # The status a write in this request answers when it succeeds (201 for a create).
    success_status: int | None = None
    # The client's address, for throttles keyed by source.
    source: str = ""
    # Reads may come from the read replica (caseload/routing.py decides; off unless opted in).
    replica_reads: bool = False
    memo: dict[Any, Any] = field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("caseload_request", default=None)


@contextmanager
def request_context(**values: Any) -> Iterator[RequestContext]:
    context = RequestContext(**values)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current_request() -> RequestContext | None:
    return _current.get()
