"""429 `locked_out` for sign-ins outside DRF: the API's login page and the admin login."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from caseload.errors import LockedOut

from .refusals import error_payload


def locked_out_response(exc: LockedOut) -> JsonResponse:
    response = JsonResponse(error_payload(exc.code, exc.message), status=exc.status)
    response["Retry-After"] = str(exc.retry_after)
    return response


class SignInLockoutMiddleware:
    """Turns `LockedOut` raised by a login form's authenticate() into the API's error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, LockedOut):
            return locked_out_response(exception)
        return None
