"""A store's connection to its platform, for the organization's admins (the `admin` token scope):
sync status per stream, test connection, pause / resume, backfill, sync now, quarantined records
and their retry, and what needs a human. The same services as the store page of the agent UI.
Another organization's store or record: 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from aftersales.channels.selectors import attention_list, quarantined_records, store_connection
from aftersales.channels.store_sync import (
    quarantined_retry,
    store_backfill,
    store_connection_test,
    store_pause,
    store_resume,
    store_sync_now,
    store_templates_sync,
    store_webhooks_subscribe,
)

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.sync import (
    AttentionOut,
    BackfillIn,
    BackfillOut,
    ConnectionCheckOut,
    MessageTemplateOut,
    PauseIn,
    QuarantinePageOut,
    QuarantinePageQuery,
    RetryOut,
    RunIn,
    RunOut,
    StoreSyncOut,
    WebhookSubscriptionsOut,
)

router = Router(tags=["store sync"])


def _sync_out(request: HttpRequest, store_id: int) -> dict[str, Any]:
    c = store_connection(current_user(request), store_id)
    check = c.connection_check
    return {
        "store_id": c.store.pk,
        "platform": c.store.platform,
        "has_connector": c.has_connector,
        "capabilities": [
            {"capability": r.capability, "label": str(r.label), "supported": r.supported, "note": r.note}
            for r in c.capabilities
        ],
        "credentials_set": c.credentials_set,
        "credential_fields": [
            {
                "name": s.field.name,
                "label": str(s.field.label),
                "kind": s.field.kind.value,
                "secret": s.field.secret,
                "required": s.field.required,
                "help": str(s.field.help),
                "choices": list(s.field.choices),
                "is_set": s.is_set,
                "value": s.value,
            }
            for s in c.credentials
        ],
        "paused": c.paused,
        "paused_reason": c.paused_reason,
        "paused_at": c.paused_at,
        "last_error": c.last_error,
        "last_error_at": c.last_error_at,
        "last_success_at": c.last_success_at,
        "webhook_url": request.build_absolute_uri(c.webhook_path) if c.webhook_path else "",
        "streams": [
            {
                "stream": s.stream,
                "key": s.key,
                "cursor": s.cursor,
                "running": s.running,
                "last_run_at": s.last_run_at,
                "last_success_at": s.last_success_at,
                "last_error": s.last_error,
                "backfill_since": s.backfill_since,
                "last_run": s.last_run,
            }
            for s in c.streams
        ],
        "quarantined": c.quarantined,
        "last_connection_check": check,
        "earliest_backfill": c.earliest_backfill,
    }


@router.get("/stores/{store_id}/sync", response=with_errors({200: StoreSyncOut}))
def get_store_sync(request: HttpRequest, store_id: Id) -> Any:
    """What the store's connector supports, its credentials schema (secrets only as set / not set),
    and its sync state per stream: cursor, last run (counts, error), paused with the platform's
    message, the webhook URL to paste into the platform."""
    return _sync_out(request, store_id)


@router.post("/stores/{store_id}/sync/test", response=with_errors({200: ConnectionCheckOut}))
def test_store_connection(request: HttpRequest, store_id: Id) -> Any:
    """Call the platform with the stored credentials and say what it answered (ok false with the
    platform's words when it refused). 409: no connector, or the credentials are incomplete."""
    return store_connection_test(user=current_user(request), store_id=store_id)


@router.post("/stores/{store_id}/sync/webhooks", response=with_errors({200: WebhookSubscriptionsOut}))
def subscribe_store_webhooks(request: HttpRequest, store_id: Id) -> Any:
    """Register the store's webhook address (SITE_URL + its /hooks/ path) on the platform for every
    topic the connector understands; idempotent. ok false with the platform's words when it refused
    (Shopify takes only HTTPS addresses). 409: the connector cannot subscribe, or no credentials."""
    return store_webhooks_subscribe(user=current_user(request), store_id=store_id)


@router.post("/stores/{store_id}/sync/templates", response=with_errors({200: list[MessageTemplateOut]}))
def sync_store_templates(request: HttpRequest, store_id: Id) -> Any:
    """Fetch the store's approved message templates from the platform (WhatsApp) and keep exactly
    those; answers the stored list. 409: the connector has no templates, the credentials are
    incomplete, or the platform refused (with its words)."""
    return store_templates_sync(user=current_user(request), store_id=store_id)


@router.post("/stores/{store_id}/sync/pause", response=with_errors({200: StoreSyncOut}))
def pause_store_sync(request: HttpRequest, store_id: Id, payload: PauseIn) -> Any:
    """Stop syncing the store until it is resumed."""
    store_pause(user=current_user(request), store_id=store_id, reason=payload.reason)
    return _sync_out(request, store_id)


@router.post("/stores/{store_id}/sync/resume", response=with_errors({200: StoreSyncOut}))
def resume_store_sync(request: HttpRequest, store_id: Id) -> Any:
    """Sync the store again (e.g. after its credentials were fixed)."""
    store_resume(user=current_user(request), store_id=store_id)
    return _sync_out(request, store_id)


@router.post("/stores/{store_id}/sync/backfill", response=with_errors({200: BackfillOut}))
def backfill_store(request: HttpRequest, store_id: Id, payload: BackfillIn) -> Any:
    """Read the store's streams (or one) again from `since` on their next run. 422 naming `since`
    when it is in the future or before the platform's limit (two years at most)."""
    stream = payload.stream.value if payload.stream else None
    count = store_backfill(user=current_user(request), store_id=store_id, since=payload.since, stream=stream)
    return {"streams": count}


@router.post("/stores/{store_id}/sync/run", response=with_errors({202: RunOut}))
def run_store_sync(request: HttpRequest, store_id: Id, payload: RunIn) -> Status[Any]:
    """Queue a sync of the store's streams (or one) now. 409 while the store is paused."""
    stream = payload.stream.value if payload.stream else None
    return Status(202, {"queued": store_sync_now(user=current_user(request), store_id=store_id, stream=stream)})


@router.get("/stores/{store_id}/quarantine", response=with_errors({200: QuarantinePageOut}))
def list_quarantined(request: HttpRequest, store_id: Id, page: Query[QuarantinePageQuery]) -> Any:
    """The store's records that could not be imported, newest first, with the reason and field."""
    rows = quarantined_records(current_user(request), store_id)
    return {"items": list(rows[page.offset : page.offset + page.limit]), "total": rows.count()}


@router.post("/quarantine/{raw_event_id}/retry", response=with_errors({200: RetryOut}))
def retry_quarantined(request: HttpRequest, raw_event_id: Id) -> Any:
    """Process a quarantined record again (after the connector or the data was fixed): it is
    imported, or quarantined again with the new reason. 422 when it is not quarantined."""
    return quarantined_retry(user=current_user(request), raw_event_id=raw_event_id)


@router.get("/attention", response=with_errors({200: AttentionOut}))
def needs_a_human(request: HttpRequest) -> Any:
    """What needs a human in the organization: paused stores with the platform's message, the
    count of quarantined records per store, write-backs that failed or whose outcome is unknown."""
    found = attention_list(current_user(request))
    return {
        "total": found.total,
        "paused_stores": [
            {
                "store_id": s.store_id,
                "store_name": s.store.name,
                "platform": s.store.platform,
                "reason": s.paused_reason,
                "paused_at": s.paused_at,
            }
            for s in found.paused
        ],
        "quarantined": found.quarantined,
        "writebacks": found.writebacks,
    }
