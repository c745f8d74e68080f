"""Translation providers and routes edited on the settings page (issue 8, section 4): organization
admins are not Django staff, so the page does what the Django admin did, through the services the
API uses. The "test connection" button calls the provider once and writes nothing."""

from __future__ import annotations

import json

from django.db import connection
from django.urls import reverse

from aftersales.language.models import ProviderConfig, TranslationRoute
from aftersales.language.services import provider_config_save
from aftersales.language.tests.conftest import ProtocolServer, Request, fake_llm

SAVE = reverse("web:translation_provider_save")
ROUTE = reverse("web:translation_route_save")


def _form(**kw: str) -> dict[str, str]:
    return {
        "name": "local-qwen",
        "kind": "openai",
        "base_url": "http://127.0.0.1:11434/v1",
        "model": "qwen2.5:7b-instruct",
        "api_key": "",
        "languages": "zh, ja, de, en",
        "timeout_seconds": "30",
        "priority": "10",
        "enabled": "on",
        "action": "save",
        **kw,
    }


def test_admin_adds_a_self_hosted_model_server_and_the_key_stays_write_only(world, login) -> None:
    client = login(world.admin)
    response = client.post(SAVE, _form(api_key="sk-local-secret"))
    assert response.status_code == 302
    config = ProviderConfig.objects.get(organization=world.org, name="local-qwen")
    assert (config.kind, config.base_url, config.priority, config.timeout_seconds) == (
        "openai",
        "http://127.0.0.1:11434/v1",
        10,
        30.0,
    )
    assert config.options == {"model": "qwen2.5:7b-instruct", "languages": ["zh", "ja", "de", "en"]}
    assert config.credentials == {"api_key": "sk-local-secret"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM language_providerconfig WHERE id = %s", [config.pk])
        assert "sk-local-secret" not in cursor.fetchone()[0]
    html = client.get(reverse("web:settings")).content.decode()
    assert "sk-local-secret" not in html and 'data-provider-form="local-qwen"' in html
    assert "Stored. Leave empty to keep it." in html

    # saved again with the key field empty: the key is kept, other options too
    config.options = {**config.options, "transcription_model": "whisper-1"}
    config.save()
    assert client.post(SAVE, _form(model="qwen2.5:14b-instruct", enabled="")).status_code == 302
    config.refresh_from_db()
    assert config.credentials == {"api_key": "sk-local-secret"} and not config.is_enabled
    assert config.options["model"] == "qwen2.5:14b-instruct" and config.options["transcription_model"] == "whisper-1"

    # "remove the stored credentials"
    assert client.post(SAVE, _form(clear_credentials="on")).status_code == 302
    config.refresh_from_db()
    assert config.credentials == {}


def test_test_connection_calls_the_server_and_writes_nothing(world, login) -> None:
    seen: list[Request] = []
    llm = fake_llm("ZH:")

    def handle(request: Request) -> tuple[int, object]:
        seen.append(request)
        if request.headers.get("Authorization") != "Bearer sk-good":
            return 401, {"error": {"message": "Incorrect API key provided"}}
        return llm(request)

    server = ProtocolServer(handle).start()
    try:
        _test_connection(world, login, server, seen)
    finally:
        server.stop()


def _test_connection(world, login, server: ProtocolServer, seen: list[Request]) -> None:  # type: ignore[no-untyped-def]
    client = login(world.admin)
    response = client.post(SAVE, _form(base_url=server.url + "/v1", api_key="sk-good", action="test"))
    html = response.content.decode()
    assert response.status_code == 200 and 'data-test="ok"' in html and "Connection works" in html
    assert seen[0].path == "/v1/chat/completions" and seen[0].body["model"] == "qwen2.5:7b-instruct"
    assert not ProviderConfig.objects.filter(name="local-qwen").exists()  # a test saves nothing
    assert "sk-good" not in html  # the key typed is not sent back

    response = client.post(SAVE, _form(base_url=server.url + "/v1", api_key="sk-bad", action="test"))
    html = response.content.decode()
    assert response.status_code == 200 and 'data-test="down"' in html and "Incorrect API key provided" in html

    # a stored key is used when the field is left empty
    provider_config_save(
        user=world.admin,
        name="local-qwen",
        kind="openai",
        base_url=server.url + "/v1",
        credentials={"api_key": "sk-good"},
        options={"model": "m"},
    )
    response = client.post(SAVE, _form(base_url=server.url + "/v1", action="test"))
    assert 'data-test="ok"' in response.content.decode()


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_written(world, login) -> None:
    client = login(world.admin)
    for data, field, message in [
        (_form(base_url="ftp://example.com"), "base_url", "base_url must start with http:// or https://"),
        (_form(timeout_seconds="soon"), "timeout_seconds", "Enter a number."),
        (_form(timeout_seconds="500"), "timeout_seconds", "between 0.5 and 120"),
        (_form(priority="-1"), "priority", "between 0 and 32767"),
        (_form(languages="zh, klingon"), "languages", "unsupported language"),
        (_form(kind="babelfish"), "kind", "unknown provider kind"),
        (_form(name="  "), "name", "1 to 60 characters"),
    ]:
        response = client.post(SAVE, data)
        html = response.content.decode()
        assert response.status_code == 422, (field, response.status_code)
        assert message in html and 'class="field-error"' in html, field
        assert '<details class="provider-edit" open>' in html
    assert not ProviderConfig.objects.exists()


def test_routes_are_set_and_removed_on_the_page(world, login) -> None:
    for name in ("local-qwen", "deepl"):
        provider_config_save(user=world.admin, name=name, kind="deepl" if name == "deepl" else "openai")
    client = login(world.admin)
    response = client.post(
        ROUTE, {"source_language": "de", "target_language": "zh", "provider_1": "local-qwen", "provider_2": "deepl"}
    )
    assert response.status_code == 302
    chain = TranslationRoute.objects.filter(organization=world.org, source_language="de", target_language="zh")
    assert [r.provider.name for r in chain.order_by("position")] == ["local-qwen", "deepl"]
    html = client.get(reverse("web:settings")).content.decode()
    assert 'data-route="de-zh"' in html and "local-qwen → deepl" in html

    for data, message in [
        ({"source_language": "de", "target_language": "zh", "provider_1": "ghost"}, "unknown provider"),
        ({"source_language": "de", "target_language": "zh", "provider_1": "deepl", "provider_2": "deepl"}, "twice"),
        ({"source_language": "xx", "target_language": "zh", "provider_1": "deepl"}, "unsupported language"),
    ]:
        response = client.post(ROUTE, data)
        assert response.status_code == 422 and message in response.content.decode()
    assert chain.count() == 2  # unchanged

    assert client.post(ROUTE, {"source_language": "de", "target_language": "zh"}).status_code == 302
    assert not chain.exists()


def test_another_organizations_provider_is_not_touched(world, login) -> None:
    provider_config_save(user=world.foreign_user, name="theirs", kind="deepl", credentials={"api_key": "k"})
    client = login(world.admin)
    client.post(SAVE, _form(name="theirs", kind="deepl", api_key="mine"))
    theirs = ProviderConfig.objects.get(organization=world.foreign_org, name="theirs")
    assert theirs.credentials == {"api_key": "k"}
    assert ProviderConfig.objects.get(organization=world.org, name="theirs").credentials == {"api_key": "mine"}
    html = client.get(reverse("web:settings")).content.decode()
    assert json.dumps("k") not in html or 'data-provider-form="theirs"' in html
