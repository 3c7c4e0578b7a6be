"""Every answer under /api/, /fhir/ and /o/ is JSON, Django's own error pages included.

DRF views answer errors in the one error shape themselves. What never reaches a DRF view (a path
that does not resolve, a crash that escapes one, a CSRF refusal of a Django form view) would be
one of Django's HTML pages; `JsonErrorsMiddleware` answers those in the same shape instead. A
500 says only that the server failed: the traceback goes to the log, never to the client.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from http import HTTPStatus

from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware import common
from django.urls import get_urlconf, is_valid_path
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views import defaults

from caseload.notice import PART2_NOTICE, PART2_NOTICE_HEADER

from .refusals import error_body, unavailable

API_PREFIXES = ("/api/", "/fhir/", "/o/")
# Headers of the original answer a client still needs.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Cache-Control", "Expires")
# Codes and details as DRF words them, so an error reads the same whichever layer answered.
KNOWN = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    500: ("server_error", "A server error occurred."),
}


def is_api_path(path: str) -> bool:
    return any(path.startswith(prefix) or path == prefix.rstrip("/") for prefix in API_PREFIXES)


def is_json(response: HttpResponse) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def error_response(request: HttpRequest, status: int) -> JsonResponse:
    """The one error shape for `status`, with no field errors."""
    if status in KNOWN:
        code, detail = KNOWN[status]
    else:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code, detail = phrase.lower().replace(" ", "_").replace("-", "_"), f"{phrase}."
    if status == 404:
        detail += _slash_hint(request)
    return JsonResponse(error_body(code, detail), status=status)


def _slash_hint(request: HttpRequest) -> str:
    path = request.path_info
    if path.endswith("/") or not is_valid_path(f"{path}/", get_urlconf()):
        return ""
    return f" API paths end with a slash: {request.path}/"


class JsonErrorsMiddleware:
    """Outermost: turns any non-JSON error answer under an API prefix into the error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or is_json(response) or not is_api_path(request.path_info):
            return response
        replacement = error_response(request, response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: a database fault no view handled (one in a middleware, say) answers 503
    like the same fault inside a view; anything else is Django's 500."""
    fault = unavailable(sys.exc_info()[1])
    if fault is None:
        return defaults.server_error(request)
    response = JsonResponse(fault.payload(), status=fault.status)
    response["Retry-After"] = str(fault.retry_after)
    return response


def is_bearer_api_request(request: HttpRequest) -> bool:
    """An API request that authenticates with `Authorization: Bearer`: a personal token or an
    OAuth2 access token. Its answer never sets or reads a cookie: a bearer header is always
    decided by the token authenticators (a bad one is a 401), never by the session."""
    if not is_api_path(request.path_info):
        return False
    return request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a bearer-token API request gets an empty session that is never
    loaded or saved (no session cookie is read, refreshed or set). Browser sessions (the admin,
    the API with a session cookie) work exactly as before."""

    def process_request(self, request: HttpRequest) -> None:
        if is_bearer_api_request(request):
            request.session = self.SessionStore(None)
            request._caseload_sessionless = True
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_caseload_sessionless", False):
            return response
        return super().process_response(request, response)


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's messages, for the admin; a bearer-token API request has no use for them (their
    storage builds a cookie signer per request)."""

    def process_request(self, request: HttpRequest) -> None:
        if not getattr(request, "_caseload_sessionless", False):
            super().process_request(request)


class CommonMiddleware(common.CommonMiddleware):
    """Django's, except that an API path is never redirected to add a slash.

    A redirect would turn a POST or PATCH into a GET without its body; the client gets a JSON
    404 that names the path with the slash instead.
    """

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if is_api_path(request.path_info):
            return False
        return super().should_redirect_with_slash(request)


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


class Part2NoticeMiddleware:
    """Every answer to an integration client carries the 42 CFR 2.32 notice as a header.

    FHIR resources carry it too, as the `42CFRPart2` security label (api/fhir/mapping.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Set by OAuth2ClientAuthentication (reading request.user here would load a session).
        if getattr(request, "caseload_integration", False):
            response[PART2_NOTICE_HEADER] = PART2_NOTICE
        return response
