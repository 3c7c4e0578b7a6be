import gc
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from api.body_limit import limit_request_body
from api.charset_guard import refuse_unusable_charsets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")


def checked_application():
    """The Django application, once the system checks pass: a server whose configuration
    would make it answer 500s (static files not collected, say) refuses to start instead."""
    application = get_wsgi_application()
    from django.core import checks

    found = checks.run_checks(include_deployment_checks=True)
    errors = [message for message in found if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
    return application


# Outermost first: a hostile charset is refused before any body is buffered.
application = refuse_unusable_charsets(limit_request_body(checked_application()))

# What is loaded by now (Django, the URL conf, every module) lives as long as the worker: the
# garbage collector no longer walks it on each collection, which a 500-row page triggers
# several times.
gc.freeze()
