from django.urls import path, re_path

from .docs import docs_asset
from .errors import unknown_route
from .main import api

urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("", api.urls),
    # Anything else under /api/v1/ is a JSON 404, not the web UI's HTML page.
    re_path(r"^.*$", unknown_route),
]
