"""Developer defaults: runs with nothing installed (SQLite, eager Celery)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = True
SECRET_KEY = env("DJANGO_SECRET_KEY", "local-development-only-not-secret")
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [  # noqa: F405
    "api.v1.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]

# Serve static files from the app folders; no collectstatic needed outside production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Receivers on this machine (tests' and developers' own), over plain http.
CASELOAD_WEBHOOK_ALLOWED_NETWORKS = [*CASELOAD_WEBHOOK_ALLOWED_NETWORKS, "127.0.0.0/8", "::1/128"]  # noqa: F405
CASELOAD_WEBHOOK_ALLOW_HTTP = True
