"""Issue 12 section 5: a WhatsApp store's approved message templates are synced from the Graph API
(POST /api/v1/stores/{id}/sync/templates, one service) and stored with their language, category,
body and number of variables; a second sync keeps exactly the platform's current list. Only the
organization's admins; a platform refusal is a 409 with its words. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from aftersales.catalog.models import Store
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.models import MessageTemplate


def api(user: Any, store: Store) -> Any:
    client = Client()
    client.force_login(user)
    return client.post(f"/api/v1/stores/{store.pk}/sync/templates", content_type="application/json")


def test_templates_are_synced_stored_and_replaced(store: Store, fake: WhatsAppFake, world: Any) -> None:
    response = api(world.admin, store)
    assert response.status_code == 200, response.content
    [get] = fake.requests_to(rf"/v23\.0/{fake.waba_id}/message_templates", "GET")
    assert get.headers["authorization"] == f"Bearer {fake.access_token}"
    assert get.query["status"] == ["APPROVED"]
    listed = {(t["name"], t["language"], t["variables"]) for t in response.json()}
    assert listed and all(t["status"] == "APPROVED" for t in response.json())
    stored = {(t.name, t.language, t.variables) for t in MessageTemplate.objects.filter(store=store)}
    assert stored == listed
    # Again: the same rows, no duplicates; a template gone from Meta's list is dropped.
    MessageTemplate.objects.create(store=store, name="old_promo", language="en_US", synced_at=timezone.now())
    assert api(world.admin, store).status_code == 200
    assert {(t.name, t.language, t.variables) for t in MessageTemplate.objects.filter(store=store)} == listed


def test_only_admins_and_a_refusal_is_409_with_metas_words(store: Store, fake: WhatsAppFake, world: Any) -> None:
    assert api(world.agent, store).status_code == 403
    assert api(world.foreign_user, store).status_code == 404
    fake.token_expired = True
    refused = api(world.admin, store)
    assert refused.status_code == 409
    assert "Session has expired" in str(refused.json())
    assert not MessageTemplate.objects.filter(store=store).exists()


def test_the_store_page_syncs_and_lists_the_templates(store: Store, fake: WhatsAppFake, world: Any) -> None:
    client = Client()
    client.force_login(world.admin)
    page = f"/settings/stores/{store.pk}/connection/"
    assert "No templates synced yet." in client.get(page).content.decode()
    done = client.post(f"/settings/stores/{store.pk}/templates/sync/")
    assert done.status_code == 302 and done["Location"].endswith("#templates")
    html = client.get(page).content.decode()
    for template in MessageTemplate.objects.filter(store=store):
        assert f'data-template="{template.name}:{template.language}"' in html
    fake.token_expired = True
    refused = client.post(f"/settings/stores/{store.pk}/templates/sync/")
    assert refused.status_code == 409 and 'data-error="templates"' in refused.content.decode()


def test_the_hourly_task_refreshes_whatsapp_stores_and_keeps_the_list_on_a_refusal(
    store: Store, fake: WhatsAppFake, world: Any
) -> None:
    from aftersales.channels.tasks import refresh_message_templates

    assert refresh_message_templates.call_local() == 1
    count = MessageTemplate.objects.filter(store=store).count()
    assert count > 0
    fake.token_expired = True
    assert refresh_message_templates.call_local() == 0
    assert MessageTemplate.objects.filter(store=store).count() == count
