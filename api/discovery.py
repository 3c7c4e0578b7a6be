"""What a newcomer or a client finds without reading the docs first.

- `/` is a small landing page linking the API's documentation, its schema and the health check.
- `/.well-known/smart-configuration` (and the same under `/fhir/`) is SMART on FHIR discovery for
  backend services: a FHIR client reads the token endpoint, the grant, the scopes and how a client
  authenticates from it instead of from a human (the SMART App Launch guide, "Backend Services").
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from caseload.models import IntegrationScope

LANDING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Caseload</title></head>
<body>
<main>
<h1>Caseload</h1>
<p>Case management for opioid use disorder treatment programs.</p>
<ul>
<li><a href="/console/">Staff console</a> (sign in with your password and authenticator app)</li>
<li><a href="/api/docs/">API documentation</a></li>
<li><a href="/api/schema/">OpenAPI schema</a></li>
<li><a href="/fhir/metadata">FHIR capability statement</a></li>
<li><a href="/.well-known/smart-configuration">SMART configuration</a></li>
<li><a href="/healthz">Health</a></li>
</ul>
</main>
</body>
</html>
"""


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return HttpResponse(LANDING, content_type="text/html; charset=utf-8")


@require_safe
def smart_configuration(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "token_endpoint": request.build_absolute_uri("/o/token/"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": list(IntegrationScope.values),
            "capabilities": ["client-confidential-symmetric"],
        }
    )
