import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
django_application = get_wsgi_application()

# The data service gateway's calls (/gateway/v1/) take their own lean path (govshare.gateway.handler); everything
# else, the gateway's pages included, is Django's.
from govshare.gateway.handler import with_gateway  # noqa: E402

application = with_gateway(django_application)

# The Chinese dictionary is loaded once at start (and shared by gunicorn's workers with --preload), not by the
# first search or import a user makes.
from govshare.catalog.search_text import load_dictionary  # noqa: E402

load_dictionary()
