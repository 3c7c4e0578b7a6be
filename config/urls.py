from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.calendar import calendar_feed
from api.discovery import landing, smart_configuration
from api.health import healthz
from api.oauth import CaseloadTokenView

# A database fault outside any DRF view answers 503, not 500 (api/refusals.py).
handler500 = "api.middleware.server_error"

urlpatterns = [
    path("", landing, name="landing"),
    path(".well-known/smart-configuration", smart_configuration, name="smart-configuration"),
    path(
        "fhir/.well-known/smart-configuration",
        smart_configuration,
        name="fhir-smart-configuration",
    ),
    path("healthz", healthz, name="healthz"),
    path("console/", include("console.urls")),
    path("api/v1/", include("api.v1.urls")),
    path("o/token/", CaseloadTokenView.as_view(), name="oauth2-token"),
    path("fhir/", include("api.fhir.urls")),
    path("calendar/<str:secret>.ics", calendar_feed, name="calendar-feed"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
]
