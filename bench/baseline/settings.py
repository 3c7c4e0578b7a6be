"""Caseload's settings with the stock middleware and DRF defaults instead of Caseload's own."""

from config.settings.base import *  # noqa: F403
from config.settings.base import database_options, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", "bench-baseline-not-secret")
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.baseline.urls"
# Stock Django sets no statement timeout: a deep OFFSET page takes as long as it takes.
DATABASES["default"]["OPTIONS"] = database_options(0)  # noqa: F405
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["bench.baseline.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "bench.baseline.auth.Pagination",
    "UNAUTHENTICATED_USER": None,
}
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "guardian",
    "simple_history",
    "oauth2_provider",
    "caseload",
]
