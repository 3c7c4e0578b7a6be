import os

from django.core.wsgi import get_wsgi_application

from api.charset_guard import refuse_unusable_charsets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = refuse_unusable_charsets(get_wsgi_application())
