"""OAuth2 client credentials for integration clients (`POST /o/token/`).

django-oauth-toolkit runs the grant; this module ties it to Caseload's clients: a client may ask
only for scopes it was given (otherwise 400 `invalid_scope`), a request without `scope` gets all
of them, a disabled client cannot authenticate, and every error answer carries both the OAuth2
fields (`error`, `error_description`, RFC 6749) and Caseload's one error shape.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote_plus

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import TokenView
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from api.refusals import error_payload
from caseload.services.integrations import (
    integration_for_application,
    integration_may_issue_token,
    integration_signin_refused,
)

_FIELDS = {
    "invalid_scope": "scope",
    "invalid_client": "client_id",
    "unsupported_grant_type": "grant_type",
    "unauthorized_client": "grant_type",
    "invalid_request": None,
}
_DETAILS = {
    "invalid_scope": "The client was not given this scope.",
    "invalid_client": "Unknown client, wrong secret, or a disabled client.",
    "unsupported_grant_type": "Use grant_type=client_credentials.",
    "unauthorized_client": "This client may use grant_type=client_credentials only.",
    "invalid_request": "The token request is malformed.",
}


class CaseloadOAuth2Validator(OAuth2Validator):
    def _client(self, request):
        application = getattr(request, "client", None)
        if application is None:
            return None
        if not hasattr(request, "_caseload_client"):
            request._caseload_client = integration_for_application(application)
        return request._caseload_client

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        return super().authenticate_client(request, *args, **kwargs) and (
            self._client(request) is not None
        )

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        integration = self._client(request)
        return integration is not None and set(scopes) <= set(integration.scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        integration = self._client(request)
        return list(integration.scopes) if integration is not None else []

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Store the token only if the client is still as it was when its secret was checked:
        a rotation or a disablement that committed meanwhile refuses it (401 `invalid_client`),
        and one still running waits for it and then revokes it."""
        integration = self._client(request)
        with transaction.atomic():
            checked = getattr(request.client, "client_secret", "")
            if integration is None or not integration_may_issue_token(
                client=integration, secret_checked=checked
            ):
                raise oauth_errors.InvalidClientError(request=request)
            return super().save_bearer_token(token, request, *args, **kwargs)


class CaseloadTokenView(TokenView):
    """DOT's token endpoint; error bodies also carry `code`, `detail` and `errors`."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        if response.status_code < 400:
            return response
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            body = {}
        error = body.get("error") or "invalid_request"
        integration_signin_refused(
            client_id=_client_id(request), error=error, status_code=response.status_code
        )
        detail = body.get("error_description") or _DETAILS.get(error, "The request failed.")
        field = _FIELDS.get(error)
        # RFC 6749 5.2: libraries print `error_description` after the error.
        body |= {"error_description": detail, **error_payload(error, detail, field)}
        response.content = json.dumps(body).encode()
        response["Content-Type"] = "application/json"
        if response.status_code == 401 and _authorization_scheme(request) == "basic":
            # RFC 6749 5.2: a client that authenticated with HTTP Basic gets a Basic challenge.
            response["WWW-Authenticate"] = 'Basic realm="caseload"'
        return response


def _authorization_scheme(request: HttpRequest) -> str:
    return request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[0].lower()


def _client_id(request: HttpRequest) -> str:
    """The client id the request claimed (HTTP Basic or the form), never its secret."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    return str(request.POST.get("client_id", ""))
