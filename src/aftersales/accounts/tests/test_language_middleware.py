"""UserLanguageMiddleware: the user's language for their request, and the previous one restored after."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from aftersales.accounts.middleware import UserLanguageMiddleware


def test_the_users_language_applies_during_the_request_and_is_restored_after(world):
    world.agent.language = "zh-hans"
    world.agent.save(update_fields=["language"])
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(translation.get_language())
        return HttpResponse(request.LANGUAGE_CODE)

    request = HttpRequest()
    request.user = world.agent
    with translation.override("en"):
        response = UserLanguageMiddleware(view)(request)
        assert translation.get_language() == "en"  # no leak into the next request on this thread
    assert seen == ["zh-hans"] and response.content == b"zh-hans"


def test_a_page_in_chinese_leaves_the_test_thread_in_english(world, client):
    world.agent.language = "zh-hans"
    world.agent.save(update_fields=["language"])
    client.force_login(world.agent)
    with translation.override("en"):
        assert client.get("/").status_code in (200, 302)
        assert translation.get_language() == "en"
