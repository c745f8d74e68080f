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
