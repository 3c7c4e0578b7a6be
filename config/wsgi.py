import os

from django.core.wsgi import get_wsgi_application

from api.body_limit import limit_request_body
from api.charset_guard import refuse_unusable_charsets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# Outermost first: a hostile charset is refused before any body is buffered.
application = refuse_unusable_charsets(limit_request_body(get_wsgi_application()))
