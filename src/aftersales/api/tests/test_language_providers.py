"""The provider test and the routes listing (issue 8, section 4): the API does what the settings
page does, with the same checks (language.services.check_provider_input)."""

from __future__ import annotations

import json
from typing import Any

from aftersales.language.models import ProviderConfig
from aftersales.language.services import provider_config_save, translation_route_set
from aftersales.language.tests.conftest import ProtocolServer, fake_llm

from .helpers import assert_error


def test_test_endpoint_calls_the_provider_and_writes_nothing(world, as_user) -> None:
    prompts: list[Any] = []
    llm = fake_llm("ZH:")

    def handle(request: Any) -> tuple[int, Any]:
        prompts.append(request.body)
        return llm(request)

    server = ProtocolServer(handle).start()
    try:
        admin = as_user(world.admin)
        body = {"kind": "openai", "base_url": server.url + "/v1", "options": {"model": "qwen2.5:7b-instruct"}}
        response = admin.post("/language/providers/local-qwen/test", body)
        down = admin.post(
            "/language/providers/local-qwen/test", {**body, "base_url": "http://127.0.0.1:9/v1", "timeout_seconds": 1}
        )
    finally:
        server.stop()
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    assert data["ok"] is True and data["latency_ms"] is not None
    assert prompts[0]["model"] == "qwen2.5:7b-instruct"
    assert not ProviderConfig.objects.exists()
    failed = json.loads(down.content)
    assert down.status_code == 200 and failed["ok"] is False and "unavailable" in failed["detail"]
    assert_error(
        admin.post("/language/providers/x/test", {"kind": "openai", "base_url": "ftp://x"}), 422, field="base_url"
    )
    assert_error(as_user(world.agent).post("/language/providers/x/test", body), 403)


def test_routes_are_listed_most_specific_first(world, as_user) -> None:
    for name in ("a", "b"):
        provider_config_save(user=world.admin, name=name, kind="deepl")
    translation_route_set(user=world.admin, source_language="*", target_language="*", provider_names=["b"])
    translation_route_set(user=world.admin, source_language="de", target_language="zh", provider_names=["a", "b"])
    response = as_user(world.admin).get("/language/routes")
    assert response.status_code == 200
    assert json.loads(response.content) == [
        {"source_language": "de", "target_language": "zh", "providers": ["a", "b"]},
        {"source_language": "*", "target_language": "*", "providers": ["b"]},
    ]
    assert json.loads(as_user(world.foreign_user).get("/language/routes").content) == []
    assert_error(as_user(world.agent).get("/language/routes"), 403)
