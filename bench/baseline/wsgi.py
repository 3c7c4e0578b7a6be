"""Django's plain WSGI entry point for the baseline (Caseload's own runs its system checks)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")
application = get_wsgi_application()
