"""The application bench/read_paths.py serves: config.wsgi plus one bare Django view.

`/bench-bare/` answers a constant JSON body through the whole middleware stack and nothing
else: the floor a token-authenticated API read is compared with.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse(b"{}", content_type="application/json")


application = get_wsgi_application()  # sets Django up; the URLs below need it
urlpatterns = [path("bench-bare/", bare), path("", include("config.urls"))]
settings.ROOT_URLCONF = __name__
