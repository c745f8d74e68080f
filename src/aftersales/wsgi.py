import os

from aftersales.core.lean_imports import import_without

# Django's terminal colours (django.core.management.color, imported by the request handler's logging) try
# colorama, which only Windows consoles need: without it a web worker is ~1 MiB smaller (ctypes included).
import_without("django.core.management.color", "colorama")

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after the line above)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings.production")
application = get_wsgi_application()
