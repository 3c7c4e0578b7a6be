"""Response headers every dynamic response carries."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` (and no-cache, max-age=0) on every response.

    Responses carry protected health information, so no shared proxy or browser cache may keep a
    copy. Static files never reach this middleware: WhiteNoise, above it, serves them first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
        return response
