"""`Authorization: Bearer <token>`: a staff member's personal API token or an OAuth2 token."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.oauth2_backends import get_oauthlib_core
from rest_framework import authentication, exceptions

from caseload.services.integrations import integration_access_refused, integration_principal
from caseload.services.tokens import TOKEN_PREFIX, token_authenticate, token_refused


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw.startswith(TOKEN_PREFIX):
            return None  # not a personal token: another authenticator (OAuth2) may own it
        staff = token_authenticate(raw)
        if staff is None:
            token_refused(raw, via="token")
            raise exceptions.AuthenticationFailed(
                "Invalid, expired or revoked token.", code="invalid_token"
            )
        return staff, raw

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="caseload"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A staff personal API token."}


class OAuth2ClientAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` with an OAuth2 access token of an integration client.

    Personal tokens start with `cl_` and are left to `BearerTokenAuthentication`. The principal
    is the integration client (`IntegrationPrincipal`), never a staff member. A token of a
    disabled client, or one expired or revoked, answers 401 `invalid_token`.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != self.keyword.lower() or not raw or raw.startswith(TOKEN_PREFIX):
            return None
        valid, oauth_request = get_oauthlib_core().verify_request(request._request, scopes=[])
        principal = None
        if valid:
            principal = integration_principal(
                application=oauth_request.access_token.application,
                token_scopes=oauth_request.access_token.scopes,
            )
        if principal is None:
            integration_access_refused(
                raw_token=raw, reason="client_disabled" if valid else "invalid_token"
            )
            raise exceptions.AuthenticationFailed(
                "Invalid, expired or revoked token.", code="invalid_token"
            )
        request._request.caseload_integration = True  # api.middleware.Part2NoticeMiddleware
        return principal, oauth_request.access_token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="caseload"'


class OAuth2ClientScheme(OpenApiAuthenticationExtension):
    target_class = OAuth2ClientAuthentication
    name = "integrationClient"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "An integration client's access token (client credentials).",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/o/token/",
                    "scopes": {
                        "appointments:read": "Appointments of the client's program",
                        "patients:read": "Patient demographics and contact details",
                    },
                }
            },
        }
