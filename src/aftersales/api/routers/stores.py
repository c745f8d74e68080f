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
from aftersales.inbox.services import category_label_rows, category_labels_set

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.stores import CategoryLabelOut, CategoryLabelsIn, StoreCreateIn, StoreOut, StorePatchIn

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
