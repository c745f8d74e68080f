"""The REST API: django-ninja, mounted at /api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="aftersales API", version="1.0.0", urls_namespace="api")
