"""Read-replica routing at the HTTP edge (caseload/routing.py decides, this tells it who wrote).

Installed only when DATABASE_REPLICA_URL is set (config/settings/base.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from caseload.routing import note_write

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadYourWritesMiddleware:
    """A staff member's request that may write (any method but GET, HEAD, OPTIONS) starts their
    read-your-writes window, before the answer reaches them, so their next read, from any web
    process, is served by the primary. A refused write starts it too: harmless, and the
    request's outcome need not be known."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            note_write(getattr(request, "user", None))
        return response
