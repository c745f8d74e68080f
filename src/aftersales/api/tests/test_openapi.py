"""The OpenAPI schema loads, lists every route, and the docs page works without a CDN."""

from __future__ import annotations

import re

from .helpers import PREFIX, ApiClient, api_routes


def test_openapi_lists_every_route(db):
    response = ApiClient().get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    documented = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert documented == api_routes()
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_openapi_documents_the_error_shape_and_money_as_strings(db):
    schema = ApiClient().get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert set(components["ErrorOut"]["properties"]) == {"error"}
    assert components["MoneyOut"]["properties"]["amount"]["type"] == "string"
    reply = schema["paths"][f"{PREFIX}/tickets/{{ticket_id}}/replies"]["post"]
    assert {"200", "201", "404", "422"} <= set(reply["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in reply["parameters"])
    listing = schema["paths"][f"{PREFIX}/tickets"]["get"]
    assert {"status", "limit", "cursor", "view", "q"} <= {p["name"] for p in listing["parameters"]}


def test_docs_page_uses_bundled_assets_only(db):
    response = ApiClient().get("/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith(f"{PREFIX}/docs/assets/") for s in sources), sources
    for source in sources:
        asset = ApiClient().get(source)
        assert asset.status_code == 200, source
        assert b"".join(asset.streaming_content)
    assert ApiClient().get("/docs/assets/secrets.py").status_code == 404
    assert ApiClient().get("/docs/assets/..%2Fmain.py").status_code == 404


def test_operation_ids_are_unique(db):
    schema = ApiClient().get("/openapi.json").json()
    operation_ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids)) == len(api_routes())


EAGER_DOCUMENT = """
import json, sys
import django
django.setup()
import aftersales.api  # (defers the builds)
from ninja.params.models import ParamModel
for model in (ParamModel, *ParamModel.__subclasses__()):
    model.model_config["defer_build"] = False  # as ninja has it: each operation's parameter models built at once
from aftersales.api.main import api
sys.stdout.write(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), sort_keys=True, default=str))
"""


def test_the_document_is_the_same_with_parameter_models_built_on_first_use(db):
    """aftersales/api/__init__.py defers ninja's parameter models' builds (memory): the OpenAPI document is
    byte for byte the one of the models built when each operation is declared (in a fresh interpreter)."""
    import json
    import os
    import subprocess
    import sys

    from ninja.params.models import ParamModel

    from aftersales.api.main import api

    assert ParamModel.__subclasses__() and all(m.model_config.get("defer_build") for m in ParamModel.__subclasses__())
    ours = json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), sort_keys=True, default=str)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings.test"}
    eager = subprocess.run(
        [sys.executable, "-c", EAGER_DOCUMENT], env=env, capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert len(ours) > 100_000
    assert ours == eager
