"""Connecting a store the way a seller does it: the platform's own consent page, then the
authorization code traded for tokens (Shopee, TikTok Shop, AliExpress, Wish, Shopify). The agent
UI's "Connect" button and `POST /api/v1/stores/{id}/authorization` call the same two services.

1. `store_authorization_start`: an organization admin asks to connect a store whose app keys
   (partner id/key, app key/secret, client id/secret: the organization's marketplace app,
   channels/marketplace_apps.py, typed once in Settings > Marketplace apps; or a store's own keys
   from before apps existed) are set. A `StoreAuthorization` row is written (a random nonce, the store,
   the organization, the admin, where they asked from: a hash of their session key, or their API
   token, an expiry of STATE_MAX_AGE) and the platform's consent URL returned, carrying
   `state` = the nonce and store id signed with the installation's SECRET_KEY (django.core.signing).
2. The platform sends the admin's browser back to REDIRECT_PATH with the code (and the shop).
   `store_authorization_finish` checks, in this order, every parameter, each refusal a 400 naming
   it: `state` present, signed by us, not expired, naming a row; the same organization, admin and
   session (or token); not used before (a conditional UPDATE spends it: a replayed callback is
   refused, even two at once); the platform's own `error`; the platform's parameters
   (connectors/<platform>/auth.py: the code's shape, Shopee's shop id, Shopify's HMAC over the
   query and its shop domain). Only then the code is traded (the platform refusing it: 409 with
   its words; unreachable: 503), the tokens merged into the store's encrypted credentials
   (context.store_credentials_save), the store's sync resumed if a refused token had paused it,
   and its first sync queued after commit.

Nothing is saved for a refused callback but the row's outcome. Tokens are never logged."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Store
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, DomainError, ValidationFailed

from .base import AuthError, ConnectorError
from .context import store_context, store_credentials_save
from .grants import REDIRECT_PATH as REDIRECT_PATH  # re-exported: the callback route and tests
from .grants import CallbackRefused, Grant, redirect_uri
from .models import StoreAuthorization, StoreSync
from .registry import get_connector
from .scopes import ScopeGap, scope_gaps, store_scopes_refresh
from .store_sync import admin_store
from .sync import pull_streams, store_sync_resume

logger = logging.getLogger(__name__)

STATE_SALT = "aftersales.channels.authorization.state"
STATE_MAX_AGE = timedelta(minutes=15)
MAX_PARAM = 2000

# The platforms whose stores connect through their own consent page; the module of each.
AUTH_MODULES: dict[str, str] = {
    "shopee": "aftersales.channels.connectors.shopee.auth",
    "tiktok": "aftersales.channels.connectors.tiktok.auth",
    "aliexpress": "aftersales.channels.connectors.aliexpress.auth",
    "wish": "aftersales.channels.connectors.wish.auth",
    "shopify": "aftersales.channels.connectors.shopify.auth",
    "ebay": "aftersales.channels.connectors.ebay.auth",
    "amazon": "aftersales.channels.connectors.amazon.auth",
}


class CallbackInvalid(DomainError):
    """A callback (or its state) that is not the one we expect: 400 naming the parameter."""

    status_code = 400
    code = "invalid_callback"


class PlatformUnavailable(DomainError):
    """The platform's token endpoint failed for now (the code is spent: the admin starts again)."""

    status_code = 503
    code = "platform_unavailable"


@dataclasses.dataclass(frozen=True)
class AuthorizationStart:
    url: str
    state: str
    redirect_uri: str
    expires_at: datetime


@dataclasses.dataclass(frozen=True)
class AuthorizationDone:
    store: Store
    account_id: str
    account_name: str
    queued_streams: tuple[str, ...]


def authorization_platforms() -> tuple[str, ...]:
    return tuple(sorted(AUTH_MODULES))


def supports_authorization(platform: str) -> bool:
    return platform in AUTH_MODULES


def session_binding(session_key: str) -> str:
    return "session:" + hashlib.sha256(session_key.encode()).hexdigest()[:64]


def token_binding(token_id: int) -> str:
    return f"token:{int(token_id)}"


def _module(platform: str) -> Any:
    path = AUTH_MODULES.get(platform)
    if path is None:
        raise Conflict(
            _("stores of this platform are not connected through the platform's consent page"),
            field="platform",
            code="not_supported",
        )
    return import_module(path)


def _app_context(store: Store, module: Any, shop: str = "") -> Any:
    """The store's context (its app keys, its endpoint), the app keys checked present."""
    connector = get_connector(store.platform)
    ctx = store_context(store, connector=connector)
    creds = dict(ctx.credentials or {})
    for name in module.APP_FIELDS:
        if not str(creds.get(name) or "").strip():
            raise Conflict(
                _(
                    "register the platform's app in Settings > Marketplace apps first (its %(field)s is "
                    "not set; the platform's developer console gives it)"
                )
                % {"field": name},
                field=f"credentials.{name}",
                code="credentials_incomplete",
            )
    if shop:
        creds["shop"] = shop
    return dataclasses.replace(ctx, credentials=creds)


def store_authorization_start(*, user: Any, store_id: int, binding: str, shop: str = "") -> AuthorizationStart:
    """The platform's consent URL for the store (admins of its organization). `binding`: where the
    callback must come back to (session_binding / token_binding). `shop`: Shopify's shop domain
    (else the store's). Conflict when the platform has no consent flow or the app keys are not set;
    ValidationFailed naming `shop` for a domain that is not <name>.myshopify.com."""
    store = admin_store(user, store_id)
    module = _module(store.platform)
    if not binding or len(binding) > 80:
        raise CallbackInvalid(_("no session to bind the authorization to"), field="state")
    typed = (shop or "").strip()[:300]
    ctx = _app_context(store, module)
    validate = getattr(module, "validate_start", None)
    if callable(validate):
        try:
            typed = validate(ctx, shop=typed)
        except CallbackRefused as exc:
            raise ValidationFailed(exc.message, field=exc.field) from None
        ctx = dataclasses.replace(ctx, credentials={**ctx.credentials, "shop": typed})
    started = now()
    nonce = secrets.token_urlsafe(24)
    state = signing.dumps({"n": nonce, "s": store.pk}, salt=STATE_SALT, compress=False)
    uri = redirect_uri()
    StoreAuthorization.objects.create(
        nonce=nonce,
        store=store,
        organization_id=store.organization_id,
        user=user,
        platform=store.platform,
        binding=binding,
        redirect_uri=uri,
        shop=typed,
        created_at=started,
        expires_at=started + STATE_MAX_AGE,
    )
    url = module.authorize_url(ctx, redirect_uri=uri, state=state, clock=time.time)
    logger.info("store authorization started", extra={"store_id": store.pk, "platform": store.platform})
    return AuthorizationStart(url=url, state=state, redirect_uri=uri, expires_at=started + STATE_MAX_AGE)


def _params(raw: Mapping[str, Any]) -> dict[str, str]:
    """The callback's query as single texts; a repeated or oversized parameter is refused by name."""
    clean: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or len(name) > 100:
            raise CallbackInvalid(_("the callback carries an unexpected parameter"), field="query")
        values = value if isinstance(value, list | tuple) else [value]
        if len(values) != 1 or not isinstance(values[0], str):
            raise CallbackInvalid(_("%(field)s: must be given once") % {"field": name}, field=name)
        if len(values[0]) > MAX_PARAM or "\x00" in values[0]:
            raise CallbackInvalid(_("%(field)s: too long or not text") % {"field": name}, field=name)
        clean[name] = values[0]
    return clean


def _pending(user: Any, state: str, binding: str) -> StoreAuthorization:
    """The authorization `state` names, if this admin started it here and it is still usable."""
    if not state:
        raise CallbackInvalid(_("state: missing; start connecting the store again"), field="state")
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise CallbackInvalid(_("state: expired; start connecting the store again"), field="state") from None
    except signing.BadSignature:
        raise CallbackInvalid(_("state: not one this site issued"), field="state") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str) or not isinstance(payload.get("s"), int):
        raise CallbackInvalid(_("state: not one this site issued"), field="state")
    row = StoreAuthorization.objects.select_related("store").filter(nonce=payload["n"], store_id=payload["s"]).first()
    if row is None:
        raise CallbackInvalid(_("state: unknown; start connecting the store again"), field="state")
    if row.organization_id != organization_of(user) or row.user_id != user.pk or row.binding != binding:
        raise CallbackInvalid(
            _("state: this connection was started by another admin or in another session"), field="state"
        )
    if row.used_at is not None:
        raise CallbackInvalid(_("state: already used; start connecting the store again"), field="state")
    if row.expires_at <= now():
        raise CallbackInvalid(_("state: expired; start connecting the store again"), field="state")
    return row


def _spend(row: StoreAuthorization, outcome: str, detail: str) -> bool:
    """Mark the authorization used (only once: False when another request spent it first)."""
    return bool(
        StoreAuthorization.objects.filter(pk=row.pk, used_at__isnull=True).update(
            used_at=now(), outcome=outcome, detail=detail[:500]
        )
    )


def store_authorization_finish(*, user: Any, binding: str, params: Mapping[str, Any]) -> AuthorizationDone:
    """The platform sent the admin back with `params` (the callback's query). Checks everything
    (CallbackInvalid 400 naming the parameter, before any platform call), trades the code, saves
    the tokens, resumes and queues the first sync. The platform refusing: Conflict 409 with its
    words; not reachable now: PlatformUnavailable 503 (the admin starts again)."""
    check_perm(user, Permission.ADMINISTER)
    query = _params(params)
    row = _pending(user, query.get("state", ""), binding)
    store = row.store
    module = _module(store.platform)
    if store.platform != row.platform or not store.is_active:
        _spend(row, "refused", "store changed")
        raise CallbackInvalid(_("state: the store changed since the connection started"), field="state")
    error = query.get("error") or query.get("error_code") or ""
    if error:
        described = query.get("error_description") or query.get("message") or error
        _spend(row, "refused", described)
        raise CallbackInvalid(
            _("the platform did not authorise the store: %(reason)s") % {"reason": described[:300]}, field="error"
        )
    for name in module.CALLBACK_FIELDS:
        if not query.get(name):
            raise CallbackInvalid(_("%(field)s: missing from the platform's callback") % {"field": name}, field=name)
    admin_store(user, store.pk)
    ctx = _app_context(store, module, row.shop)
    check = getattr(module, "check_callback", None)
    try:
        if callable(check):
            check(ctx, params=query)
    except CallbackRefused as exc:
        raise CallbackInvalid(f"{exc.field}: {exc.message}", field=exc.field) from None
    if not _spend(row, "pending", ""):
        raise CallbackInvalid(_("state: already used; start connecting the store again"), field="state")
    try:
        grant: Grant = module.exchange(ctx, params=query, redirect_uri=row.redirect_uri, clock=time.time)
    except CallbackRefused as exc:
        StoreAuthorization.objects.filter(pk=row.pk).update(outcome="refused", detail=exc.message[:500])
        raise CallbackInvalid(f"{exc.field}: {exc.message}", field=exc.field) from None
    except ConnectorError as exc:
        StoreAuthorization.objects.filter(pk=row.pk).update(outcome="refused", detail=str(exc)[:500])
        if exc.permanent or isinstance(exc, AuthError):
            raise Conflict(
                _("the platform refused the authorization: %(reason)s") % {"reason": str(exc)[:500]},
                field="code",
                code="platform_refused",
            ) from None
        raise PlatformUnavailable(
            _("the platform could not be reached to finish the authorization (%(reason)s): connect again")
            % {"reason": str(exc)[:300]},
            field="code",
        ) from None
    return _connected(user=user, row=row, store=store, grant=grant)


def _connected(*, user: Any, row: StoreAuthorization, store: Store, grant: Grant) -> AuthorizationDone:
    """Save the tokens, note the connection, resume the sync and queue its first run."""
    with transaction.atomic():
        store_credentials_save(store_id=store.pk, updates=dict(grant.credentials))
        fresh = Store.objects.select_for_update().get(pk=store.pk)
        if grant.account_id and not fresh.external_id:
            fresh.external_id = grant.account_id[:120]
            fresh.save(update_fields=["external_id", "updated_at"])
        StoreAuthorization.objects.filter(pk=row.pk).update(
            outcome="connected", detail=(grant.account_name or grant.account_id)[:500]
        )
        sync, _created = StoreSync.objects.get_or_create(store=fresh)
        if sync.paused:
            store_sync_resume(store=fresh, actor=Actor.user(user))
        try:
            streams = tuple(s.value for s in pull_streams(fresh))
        except ConnectorError:
            streams = ()

        def enqueue() -> None:
            from .tasks import sync_store_stream

            store_scopes_refresh(fresh)  # what the merchant granted: the store page shows what is missing
            for name in streams:
                sync_store_stream(fresh.pk, name)

        transaction.on_commit(enqueue)
    logger.info(
        "store connected",
        extra={"store_id": store.pk, "platform": store.platform, "streams": list(streams)},
    )
    return AuthorizationDone(
        store=fresh, account_id=grant.account_id, account_name=grant.account_name, queued_streams=streams
    )


def last_authorization(store: Store) -> StoreAuthorization | None:
    """The store's latest finished authorization (its page says "connected as ... on ...")."""
    return StoreAuthorization.objects.filter(store=store).exclude(outcome="").order_by("-created_at", "-pk").first()


@dataclasses.dataclass(frozen=True)
class AuthorizationStatus:
    """The "Connect" box of a store page."""

    platform: str
    redirect_uri: str
    consent_origin: str  # the store page's form-action must allow it
    missing_app_fields: tuple[str, ...]  # app keys to set first
    asks_shop: bool  # Shopify: the admin names the shop
    shop: str
    connected: bool
    last: StoreAuthorization | None
    scope_gaps: tuple[ScopeGap, ...] = ()  # features the granted access scopes disable


def authorization_status(store: Store) -> AuthorizationStatus | None:
    """None for a platform connected otherwise (pasted keys, a mailbox, a push-only channel)."""
    if store.platform not in AUTH_MODULES:
        return None
    module = _module(store.platform)
    try:
        connector = get_connector(store.platform)
    except ConnectorError:  # a platform whose connector is not installed: nothing to connect through
        return None
    ctx = store_context(store, connector=connector)
    creds = ctx.credentials or {}
    missing = tuple(n for n in module.APP_FIELDS if not str(creds.get(n) or "").strip())
    try:
        origin = module.consent_origin(ctx)
    except ConnectorError:
        origin = ""
    last = last_authorization(store)
    granted = StoreSync.objects.filter(store=store).values_list("granted_scopes", flat=True).first()
    return AuthorizationStatus(
        platform=store.platform,
        redirect_uri=redirect_uri(),
        consent_origin=origin,
        missing_app_fields=missing,
        asks_shop=callable(getattr(module, "validate_start", None)),
        shop=str(creds.get("shop") or ""),
        connected=bool(creds.get("refresh_token") or creds.get("access_token")),
        last=last,
        scope_gaps=tuple(scope_gaps(store.platform, granted)),
    )
