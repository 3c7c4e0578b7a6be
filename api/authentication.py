"""`Authorization: Bearer <token>` for staff members' personal API tokens."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

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
