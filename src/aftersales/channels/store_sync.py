"""What an organization admin does with a store's connection, in the agent UI and the API alike:
test the connection, pause / resume its sync, backfill from a date, sync now, retry a quarantined
record. Each checks the administer permission and that the store is the admin's organization's
(another organization's id: NotFound), then calls the engine (channels/sync.py).

A platform without a connector, or a store whose credentials are incomplete, is refused with a
409 naming what is missing, before any platform is called."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Store
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.validation import check_text

from .base import Capability, ConnectorError, Stream
from .credentials import check_platform_credentials
from .marketplace_apps import effective_credentials
from .message_templates import templates_refresh
from .models import MessageTemplate, RawEvent, StoreSync
from .registry import get_connector
from .selectors import (
    ConnectionTestResult,
    WebhookSubscriptionResult,
    backfill_limit_days,
    connection_check_key,
    earliest_backfill_day,
    webhook_path,
    webhook_subscriptions_key,
)
from .sync import (
    RecordOutcome,
    pull_streams,
    raw_event_retry,
    store_backfill_from,
    store_context,
    store_sync_pause,
    store_sync_resume,
)

logger = logging.getLogger(__name__)

MAX_PAUSE_REASON = 1000
CONNECTION_CHECK_TTL = 30 * 24 * 3600


def admin_store(user: Any, store_id: int) -> Store:
    """One of the admin's organization's stores (NotFound for any other id)."""
    check_perm(user, Permission.ADMINISTER)
    store = Store.objects.filter(pk=store_id, organization_id=organization_of(user)).first()
    if store is None:
        raise NotFound(_("store not found"), field="store_id")
    return store


def _connector_for(store: Store, capability: Capability | None = None) -> Any:
    """The store's connector, its credentials complete; Conflict naming what is missing."""
    try:
        connector = get_connector(store.platform)
    except ConnectorError:
        raise Conflict(
            _("no connector for %(platform)s is installed yet") % {"platform": store.get_platform_display()},
            field="platform",
            code="no_connector",
        ) from None
    if capability is not None and capability not in connector.capabilities:
        raise Conflict(
            _("the %(platform)s connector does not offer this") % {"platform": store.get_platform_display()},
            field="platform",
            code="not_supported",
        )
    if not store.credentials:
        raise Conflict(_("the store has no credentials yet"), field="credentials", code="no_credentials")
    try:
        check_platform_credentials(store.platform, effective_credentials(store))
    except ValidationFailed as exc:
        raise Conflict(exc.message, field=exc.field, code="credentials_incomplete") from None
    return connector


def store_connection_test(*, user: Any, store_id: int) -> ConnectionTestResult:
    """Call the platform with the store's credentials (connector.test_connection) and say what it
    answered. Nothing is stored but a last-checked note (the cache), shown on the store page."""
    store = admin_store(user, store_id)
    connector = _connector_for(store, Capability.TEST_CONNECTION)
    try:
        check = connector.test_connection(store_context(store, connector=connector))
        ok, detail = bool(check.ok), str(check.detail)
    except ConnectorError as exc:
        ok, detail = False, str(exc)
    except Exception as exc:  # a connector bug must not become a 500: the admin sees it failed
        logger.exception("test_connection failed", extra={"store_id": store.pk})
        ok, detail = False, _("the connection test failed unexpectedly (%(error)s)") % {"error": type(exc).__name__}
    result = ConnectionTestResult(ok=ok, detail=detail[:1000], checked_at=now())
    cache.set(connection_check_key(store), result, CONNECTION_CHECK_TTL)
    logger.info("connection tested", extra={"store_id": store.pk, "ok": ok})
    return result


def store_templates_sync(*, user: Any, store_id: int) -> list[MessageTemplate]:
    """Fetch the store's approved message templates from the platform (connector.list_templates)
    and keep exactly those (templates_refresh). 409 when the connector has no templates, the
    credentials are incomplete, or the platform refused (with its words)."""
    store = admin_store(user, store_id)
    connector = _connector_for(store)
    if not hasattr(connector, "list_templates"):
        raise Conflict(
            _("the %(platform)s connector does not offer this") % {"platform": store.get_platform_display()},
            field="platform",
            code="not_supported",
        )
    try:
        return templates_refresh(store, connector)
    except ConnectorError as exc:
        raise Conflict(
            _("the platform refused to list the templates: %(error)s") % {"error": str(exc)[:500]},
            field="credentials",
            code="platform_refused",
        ) from None


def store_webhook_url(store: Store) -> str:
    """The store's push address as the platform must call it: SITE_URL (the installation's public
    address) + /hooks/<platform>/<token>."""
    sync, _created = StoreSync.objects.get_or_create(store=store)
    return settings.SITE_URL.rstrip("/") + webhook_path(store.platform, sync.webhook_token)


def store_webhooks_subscribe(*, user: Any, store_id: int) -> WebhookSubscriptionResult:
    """Register the store's webhook address on the platform for every topic its connector maps
    (connector.subscribe_webhooks: idempotent, ours for other topics removed). The platform's
    refusal (e.g. an address that is not HTTPS) comes back as ok=False with its words; the result
    is noted for the store page like a connection test."""
    store = admin_store(user, store_id)
    connector = _connector_for(store, Capability.SUBSCRIBE_WEBHOOKS)
    url = store_webhook_url(store)
    try:
        done = connector.subscribe_webhooks(store_context(store, connector=connector), url)
        result = WebhookSubscriptionResult(
            ok=True,
            detail="",
            callback_url=url,
            created=tuple(done.created),
            existing=tuple(done.existing),
            removed=tuple(done.removed),
            checked_at=now(),
        )
    except ConnectorError as exc:
        result = WebhookSubscriptionResult(
            ok=False, detail=str(exc)[:1000], callback_url=url, created=(), existing=(), removed=(), checked_at=now()
        )
    cache.set(webhook_subscriptions_key(store), result, CONNECTION_CHECK_TTL)
    logger.info(
        "webhooks subscribed",
        extra={"store_id": store.pk, "ok": result.ok, "created": len(result.created), "removed": len(result.removed)},
    )
    return result


MAILBOX_OAUTH_CALLBACK = "/settings/mailbox-oauth/callback/"


def mailbox_oauth_redirect_uri() -> str:
    """The address the OAuth provider sends the admin back to: register it in the OAuth app."""
    return settings.SITE_URL.rstrip("/") + MAILBOX_OAUTH_CALLBACK


def _oauth_mailbox(user: Any, store_id: int) -> Store:
    store = admin_store(user, store_id)
    if store.platform != "email":
        raise Conflict(_("only mailboxes sign in with OAuth"), field="platform", code="not_supported")
    creds = store.credentials or {}
    if creds.get("auth") != "oauth2":
        raise Conflict(_("choose oauth2 as the mailbox's sign-in first"), field="credentials.auth", code="not_oauth")
    for name in ("oauth_provider", "oauth_client_id", "oauth_client_secret"):
        if not creds.get(name):
            raise Conflict(
                _("set the mailbox's OAuth provider, client id and secret first"), field=f"credentials.{name}"
            )
    return store


def mailbox_oauth_start(*, user: Any, store_id: int) -> Any:
    """The provider's consent URL for an OAuth mailbox (`.url`, with `.state` and `.code_verifier`,
    which the caller keeps for the callback)."""
    store = _oauth_mailbox(user, store_id)
    try:
        connector: Any = get_connector(store.platform)
        return connector.oauth_authorization_request(store.credentials or {}, redirect_uri=mailbox_oauth_redirect_uri())
    except ConnectorError as exc:
        raise Conflict(str(exc), field="credentials", code="credentials_incomplete") from None


def mailbox_oauth_finish(*, user: Any, store_id: int, callback_url: str, state: str, code_verifier: str) -> str:
    """The provider sent the admin back: check the state, trade the code for tokens, save them
    (encrypted) and resume the mailbox's sync if a refused sign-in had paused it. Returns the
    provider's word for who signed in. ValidationFailed when the provider refused or the callback
    is not the one expected (nothing is saved)."""
    store = _oauth_mailbox(user, store_id)
    connector: Any = get_connector(store.platform)
    try:
        updates = connector.oauth_exchange(
            store.credentials or {},
            callback_url=callback_url,
            state=state,
            redirect_uri=mailbox_oauth_redirect_uri(),
            code_verifier=code_verifier,
        )
    except ConnectorError as exc:
        raise ValidationFailed(str(exc), field="oauth") from None
    store_context(store, connector=connector).save_credentials(updates)
    sync = StoreSync.objects.filter(store=store, paused=True).first()
    if sync is not None:
        store_sync_resume(store=store, actor=Actor.user(user))
    logger.info("mailbox connected with OAuth", extra={"store_id": store.pk})
    return str((store.credentials or {}).get("address") or "")


def store_pause(*, user: Any, store_id: int, reason: str = "") -> StoreSync:
    """Stop syncing the store until someone resumes it (webhooks are still stored raw)."""
    store = admin_store(user, store_id)
    text = " ".join(check_text(reason or "", field="reason", one_line=True).split())
    if len(text) > MAX_PAUSE_REASON:
        raise ValidationFailed(
            _("the reason must have at most %(max)d characters") % {"max": MAX_PAUSE_REASON}, field="reason"
        )
    return store_sync_pause(store=store, reason=text or _("Paused by an admin."), actor=Actor.user(user))


def store_resume(*, user: Any, store_id: int) -> StoreSync:
    """Sync the store again (after its credentials were fixed); its streams go on from their cursors."""
    store = admin_store(user, store_id)
    return store_sync_resume(store=store, actor=Actor.user(user))


def _streams_of(store: Store, stream: str | None) -> list[Stream]:
    try:
        pulled = pull_streams(store)
    except ConnectorError:
        pulled = []
    if stream is None or stream == "":
        return pulled
    try:
        chosen = Stream(stream)
    except ValueError:
        raise ValidationFailed(
            _("unknown stream %(value)r; expected one of %(choices)s")
            % {"value": str(stream)[:40], "choices": ", ".join(s.value for s in pulled) or "-"},
            field="stream",
        ) from None
    if chosen not in pulled:
        raise ValidationFailed(
            _("the %(platform)s connector does not pull %(stream)s")
            % {"platform": store.get_platform_display(), "stream": chosen.value},
            field="stream",
        )
    return [chosen]


def store_backfill(*, user: Any, store_id: int, since: date, stream: str | None = None) -> int:
    """Read the store's streams (or one) again from `since` (a day, UTC) on their next run: not in
    the future, not before two years ago or the platform's limit. Returns the streams marked."""
    store = admin_store(user, store_id)
    if isinstance(since, datetime):
        since = since.astimezone(UTC).date() if since.tzinfo else since.date()
    if not isinstance(since, date):
        raise ValidationFailed(_("since: a day such as 2026-01-31"), field="since")
    today = now().astimezone(UTC).date()
    if since > today:
        raise ValidationFailed(_("since: the day must not be in the future"), field="since")
    earliest = earliest_backfill_day(store.platform, today=today)
    if since < earliest:
        raise ValidationFailed(
            _("since: %(platform)s keeps data for %(days)d days; the earliest day is %(day)s")
            % {"platform": store.get_platform_display(), "days": backfill_limit_days(store.platform), "day": earliest},
            field="since",
        )
    _connector_for(store)
    streams = _streams_of(store, stream)
    if not streams:
        raise Conflict(_("the connector pulls nothing to backfill"), field="platform", code="not_supported")
    return store_backfill_from(
        store=store, since=datetime.combine(since, time.min, tzinfo=UTC), actor=Actor.user(user), streams=streams
    )


def store_sync_now(*, user: Any, store_id: int, stream: str | None = None) -> list[str]:
    """Queue a sync of the store's pulled streams (or one) now; the worker runs them (a stream
    already running is skipped by the engine's claim). Refused while the store is paused."""
    store = admin_store(user, store_id)
    _connector_for(store)
    streams = _streams_of(store, stream)
    if not streams:
        raise Conflict(_("the connector pulls nothing"), field="platform", code="not_supported")
    if StoreSync.objects.filter(store=store, paused=True).exists():
        raise Conflict(_("the store's sync is paused; resume it first"), field="store_id", code="paused")
    names = [s.value for s in streams]

    def enqueue() -> None:
        from .tasks import sync_store_stream

        for name in names:
            sync_store_stream(store.pk, name)

    transaction.on_commit(enqueue)
    logger.info("sync requested", extra={"store_id": store.pk, "streams": names})
    return names


def quarantined_retry(*, user: Any, raw_event_id: int) -> RecordOutcome:
    """Process a quarantined record again after a fix (the engine's raw_event_retry); another
    organization's record is NotFound."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    platform = (
        RawEvent.objects.filter(pk=raw_event_id, store__organization_id=organization_id)
        .values_list("store__platform", flat=True)
        .first()
    )
    if platform is None:
        raise NotFound(_("no such received record"), field="raw_event_id")
    try:
        get_connector(platform)
    except ConnectorError:
        raise Conflict(
            _("no connector for %(platform)s is installed any more") % {"platform": platform},
            field="raw_event_id",
            code="no_connector",
        ) from None
    try:
        return raw_event_retry(raw_event_id=raw_event_id, actor=Actor.user(user), organization_id=organization_id)
    except ConnectorError as exc:  # no connector installed any more for the store's platform
        raise Conflict(str(exc), field="raw_event_id", code="no_connector") from None
