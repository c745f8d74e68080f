"""The organization's stores (marketplace accounts and mailboxes) and its category labels.

Anyone of the organization may read them; changing them needs the administer permission.
`credentials` are checked against the platform's schema (channels/credentials.py; 422 naming
`credentials.<key>`) and are write-only. The connection itself (test, sync status, pause / resume,
backfill, quarantine) is under /stores/{id}/sync (routers/sync.py); a store whose platform has no
connector yet says so (`has_connector: false`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.catalog.selectors import store_list, store_settings_get
from aftersales.catalog.services import store_create, store_update
from aftersales.channels.authorization import (
    session_binding,
    store_authorization_finish,
    store_authorization_start,
    token_binding,
)
from aftersales.inbox.services import category_label_rows, category_labels_set

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.stores import (
    CategoryLabelOut,
    CategoryLabelsIn,
    StoreAuthorizationCallbackIn,
    StoreAuthorizationDoneOut,
    StoreAuthorizationIn,
    StoreAuthorizationStartOut,
    StoreCreateIn,
    StoreOut,
    StorePatchIn,
)

router = Router(tags=["stores"])


@router.get("/stores", response=with_errors({200: list[StoreOut]}))
def list_stores(request: HttpRequest) -> Any:
    """The organization's stores (marketplace accounts and mailboxes). Credentials are never
    returned, only whether some are set."""
    return store_list(current_user(request))


@router.post("/stores", response=with_errors({201: StoreOut}))
def create_store(request: HttpRequest, payload: StoreCreateIn) -> Status[Any]:
    """Add a store. Admins only. `credentials` are write-only."""
    user = current_user(request)
    values = payload.dict()
    values["platform"] = payload.platform.value
    store = store_create(user=user, **values)
    return Status(201, store_settings_get(user, store.pk))


@router.patch("/stores/{store_id}", response=with_errors({200: StoreOut}))
def update_store(request: HttpRequest, store_id: Id, payload: StorePatchIn) -> Any:
    """Change the fields sent; `is_active: false` deactivates the store. `credentials`: an object
    replaces them, null clears them, absent keeps them. Admins only."""
    user = current_user(request)
    changes = payload.dict(exclude_unset=True)
    if payload.platform is not None:
        changes["platform"] = payload.platform.value
    store = store_update(user=user, store_id=store_id, changes=changes)
    return store_settings_get(user, store.pk)


@router.get("/category-labels", response=with_errors({200: list[CategoryLabelOut]}))
def list_category_labels(request: HttpRequest) -> Any:
    """Every ticket category with its built-in labels and the organization's own."""
    return category_label_rows(user=current_user(request))


@router.put("/category-labels", response=with_errors({200: list[CategoryLabelOut]}))
def replace_category_labels(request: HttpRequest, payload: CategoryLabelsIn) -> Any:
    """Replace the organization's labels (English, simplified Chinese). Admins only."""
    labels = {category.value: values.dict() for category, values in payload.labels.items()}
    return category_labels_set(user=current_user(request), labels=labels)


def _binding(request: HttpRequest) -> str:
    """An authorization started here must be finished by the same API token (or browser session)."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return token_binding(token.pk)
    return session_binding(str(request.session.session_key or ""))


@router.post("/stores/{store_id}/authorization", response=with_errors({201: StoreAuthorizationStartOut}))
def start_store_authorization(request: HttpRequest, store_id: Id, payload: StoreAuthorizationIn) -> Status[Any]:
    """Connect a Shopee, TikTok Shop, AliExpress, Wish or Shopify store through the platform's
    consent page: returns its URL and the signed `state` (15 minutes, single use). The store's app
    keys must be set first (409 naming `credentials.<key>`). Admins only."""
    started = store_authorization_start(
        user=current_user(request), store_id=store_id, binding=_binding(request), shop=payload.shop
    )
    return Status(
        201,
        {
            "url": started.url,
            "state": started.state,
            "redirect_uri": started.redirect_uri,
            "expires_at": started.expires_at.isoformat(),
        },
    )


@router.post("/stores/authorization/callback", response=with_errors({200: StoreAuthorizationDoneOut}))
def finish_store_authorization(request: HttpRequest, payload: StoreAuthorizationCallbackIn) -> Any:
    """Finish a connection with the query the platform redirected to: every parameter checked
    (400 naming it: a forged, expired, replayed or foreign state, a bad code or HMAC), then the
    code traded for tokens (409 when the platform refuses it, 503 when it cannot be reached), the
    tokens saved encrypted and the first sync queued. Admins only, with the token that started it."""
    done = store_authorization_finish(user=current_user(request), binding=_binding(request), params=payload.params)
    return {
        "store_id": done.store.pk,
        "account_id": done.account_id,
        "account_name": done.account_name,
        "queued_streams": list(done.queued_streams),
    }
