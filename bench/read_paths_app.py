"""The application bench/read_paths.py serves: config.wsgi (as deployed: body limit, charset
guard, checks) plus one bare Django view.

`/bench-bare/` answers a constant JSON body through the whole middleware stack and nothing
else: the floor a token-authenticated API read is compared with.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from django.conf import settings
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse(b"{}", content_type="application/json")


from config.wsgi import application  # noqa: E402, F401 - sets Django up; the URLs need it

urlpatterns = [path("bench-bare/", bare), path("", include("config.urls"))]
settings.ROOT_URLCONF = __name__
