"""Test settings: SQLite by default, PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

from .base import *  # noqa: F403
from .base import database_options, env, replica_database

SECRET_KEY = env("DJANGO_SECRET_KEY", "test-only-not-secret")
# Hashing speed is not under test here; Argon2 stays first in production.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# Serve static files from the app folders; no collectstatic needed outside production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Receivers on this machine (tests' and developers' own), over plain http.
CASELOAD_WEBHOOK_ALLOWED_NETWORKS = [*CASELOAD_WEBHOOK_ALLOWED_NETWORKS, "127.0.0.0/8", "::1/128"]  # noqa: F405
CASELOAD_WEBHOOK_ALLOW_HTTP = True

# No statement timeout unless a test asks for one: creating and dropping test databases waits on
# checkpoints that take longer than production's timeout on a busy machine.
CASELOAD_STATEMENT_TIMEOUT_MS = int(env("CASELOAD_STATEMENT_TIMEOUT_MS", "0"))
DATABASES["default"]["OPTIONS"] = database_options(CASELOAD_STATEMENT_TIMEOUT_MS)  # noqa: F405
if "replica" in DATABASES:  # noqa: F405
    DATABASES["replica"] = replica_database(CASELOAD_STATEMENT_TIMEOUT_MS)  # noqa: F405
