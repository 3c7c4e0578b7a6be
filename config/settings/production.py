"""Production settings: refuse to start without the values that must not have defaults."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, env_bool, env_list


def required(name: str) -> str:
    value = env(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production.")
    return value


DEBUG = False
SECRET_KEY = required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")
CASELOAD_SECRET_KEYS = env_list("CASELOAD_SECRET_KEYS")
if not CASELOAD_SECRET_KEYS:
    raise ImproperlyConfigured("CASELOAD_SECRET_KEYS must be set in production.")
MESSAGE_WRITING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
if EMAIL_BACKEND in MESSAGE_WRITING_EMAIL_BACKENDS and not (  # noqa: F405
    CASELOAD_ALLOW_UNSAFE_EMAIL_BACKEND  # noqa: F405
):
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND {EMAIL_BACKEND} writes whole messages (addresses, reminder text) to "  # noqa: F405
        "output or files; configure a sending backend, or set "
        "CASELOAD_ALLOW_UNSAFE_EMAIL_BACKEND=true to accept that."
    )
if DATABASE_REPLICA_URL and not REDIS_URL:  # noqa: F405
    raise ImproperlyConfigured(
        "DATABASE_REPLICA_URL needs REDIS_URL: every web process must see each staff member's "
        "last write to route their next reads to the primary (docs/operations.md, Scale-out)."
    )
CASELOAD_AUDIT_KEY = required("CASELOAD_AUDIT_KEY")
if len(CASELOAD_AUDIT_KEY) < 32:
    raise ImproperlyConfigured("CASELOAD_AUDIT_KEY must be at least 32 characters.")

if CASELOAD_CONSOLE_MFA != "required" and not env_bool(  # noqa: F405
    "CASELOAD_CONSOLE_MFA_OFF_ALLOWED"
):
    raise ImproperlyConfigured(
        "CASELOAD_CONSOLE_MFA must be 'required' in production (set "
        "CASELOAD_CONSOLE_MFA_OFF_ALLOWED=true to run the console without a second factor)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
