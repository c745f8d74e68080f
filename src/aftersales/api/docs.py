"""Interactive docs that work offline: Swagger UI is served from the files bundled with
django-ninja (no CDN), without requiring `ninja` in INSTALLED_APPS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import Swagger

from .errors import error_response

if TYPE_CHECKING:
    from ninja import NinjaAPI

ASSET_DIR = Path(ninja.__file__).parent / "static" / "ninja"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}


class OfflineSwagger(Swagger):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "api": api,
            "swagger_settings": json.dumps(settings, indent=1),
            "add_csrf": True,
            "assets": {name.split(".")[0].replace("-", "_"): reverse("api-docs-asset", args=[name]) for name in ASSETS},
        }
        return render(request, "api/swagger.html", context)


def docs_asset(request: HttpRequest, name: str) -> HttpResponseBase:
    if name not in ASSETS or not (ASSET_DIR / name).is_file():
        return error_response(404, "not_found", f"no docs asset {name!r}")
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
