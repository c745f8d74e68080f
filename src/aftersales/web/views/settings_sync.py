"""A store's connection page in Settings (organization admins): its connector's capabilities, the
platform's credential fields (secrets only as set / not set; left empty they are kept), "test
connection", sync status per stream, pause / resume, backfill from a date, sync now, the webhook URL;
its quarantined records with "retry"; and the organization's "needs a human" list.

Each view parses the form, calls one service or selector (the same as /api/v1/stores/{id}/sync...)
and renders or redirects; a refusal about a field is shown on the page, nothing is written."""

from __future__ import annotations

import json
from datetime import UTC, date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.catalog.services import store_update
from aftersales.channels.authorization import authorization_status
from aftersales.channels.base import Capability
from aftersales.channels.push_channels import push_channel_status
from aftersales.channels.selectors import (
    attention_list,
    mailbox_oauth_status,
    quarantined_records,
    store_connection,
)
from aftersales.channels.store_sync import (
    mailbox_oauth_finish,
    mailbox_oauth_redirect_uri,
    mailbox_oauth_start,
    quarantined_retry,
    store_backfill,
    store_connection_test,
    store_pause,
    store_resume,
    store_sync_now,
    store_templates_sync,
    store_webhooks_subscribe,
)
from aftersales.core.clock import now
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed

from ..access import AgentRequest, web_view

QUARANTINE_PER_PAGE = 25


def _page_error(exc: DomainError) -> None:
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


def _connection_page(
    request: AgentRequest,
    store_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    backfill_since: str = "",
) -> HttpResponse:
    connection = store_connection(request.user, store_id)
    typed = typed or {}
    fields = [
        {
            "state": s,
            "value": typed.get(s.field.name, "" if s.value is None else _shown(s.value)),
            "error": (errors or {}).get(f"credentials.{s.field.name}", ""),
        }
        for s in connection.credentials
    ]
    authorization = authorization_status(connection.store)
    context = {
        "settings_section": "stores",
        "c": connection,
        "store": connection.store,
        "fields": fields,
        "errors": errors or {},
        "webhook_url": request.build_absolute_uri(connection.webhook_path) if connection.webhook_path else "",
        "backfill_since": backfill_since,
        "can_test": connection.supports(Capability.TEST_CONNECTION),
        "can_subscribe": connection.supports(Capability.SUBSCRIBE_WEBHOOKS) and connection.credentials_set,
        "oauth": mailbox_oauth_status(connection.store),
        "oauth_redirect_uri": mailbox_oauth_redirect_uri(),
        "authorization": authorization,
        "push": push_channel_status(connection.store),
        "today": now().astimezone(UTC).date().isoformat(),
    }
    response = render(request, "web/settings/sync/store.html", context, status=status)
    oauth = mailbox_oauth_status(connection.store)
    if oauth is not None and oauth.authorize_origin:
        # "Connect the mailbox" posts here and is redirected to the provider's consent page: the
        # page's form-action must allow that origin (CSP checks redirects of a form submission).
        response._csp_update = {"form-action": [oauth.authorize_origin]}  # type: ignore[attr-defined]
    if authorization is not None and authorization.consent_origin:
        # "Connect to <platform>" is redirected to the platform's consent page, likewise.
        response._csp_update = {"form-action": [authorization.consent_origin]}  # type: ignore[attr-defined]
    return response


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _back(store_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("web:settings_store_connection", args=[store_id]) + (f"#{anchor}" if anchor else ""))


@web_view(methods=("GET", "POST"))
def store_connection_page(request: AgentRequest, store_id: int) -> HttpResponse:
    """The store's connection; POST saves the credentials typed into the platform's fields (an
    empty secret keeps the stored one; an empty other field removes it)."""
    if request.method == "GET":
        return _connection_page(request, store_id)
    connection = store_connection(request.user, store_id)  # 403 / 404 before reading the form
    typed = {s.field.name: request.POST.get(s.field.name, "") for s in connection.credentials}
    credentials = {name: value for name, value in typed.items() if value.strip()}
    try:
        if not credentials:
            raise ValidationFailed(_("fill in the platform's fields"), field="credentials")
        store_update(user=request.user, store_id=store_id, changes={"credentials": credentials})
    except DomainError as exc:
        _page_error(exc)
        secret = {s.field.name for s in connection.credentials if s.field.secret}
        kept = {name: value for name, value in typed.items() if name not in secret}
        return _connection_page(
            request, store_id, status=exc.status_code, errors={exc.field or "credentials": exc.message}, typed=kept
        )
    messages.success(request, _("Credentials saved."))
    return _back(store_id, "credentials")


@web_view(methods=("POST",))
def store_connection_test_view(request: AgentRequest, store_id: int) -> HttpResponse:
    """Test the connection; the result is shown on the page (nothing is stored but a note)."""
    try:
        result = store_connection_test(user=request.user, store_id=store_id)
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(request, store_id, status=exc.status_code, errors={"test": exc.message})
    if result.ok:
        messages.success(request, _("Connection works: %(detail)s") % {"detail": result.detail})
    else:
        messages.error(request, _("Connection failed: %(detail)s") % {"detail": result.detail})
    return _back(store_id, "connection")


@web_view(methods=("POST",))
def store_templates_sync_view(request: AgentRequest, store_id: int) -> HttpResponse:
    """Fetch the store's approved message templates from the platform; they are listed on the page."""
    try:
        found = store_templates_sync(user=request.user, store_id=store_id)
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(request, store_id, status=exc.status_code, errors={"templates": exc.message})
    messages.success(request, _("Templates synced: %(count)s approved.") % {"count": len(found)})
    return _back(store_id, "templates")


@web_view(methods=("POST",))
def store_pause_view(request: AgentRequest, store_id: int) -> HttpResponse:
    try:
        store_pause(user=request.user, store_id=store_id, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(request, store_id, status=exc.status_code, errors={"reason": exc.message})
    messages.success(request, _("Sync paused."))
    return _back(store_id, "sync")


@web_view(methods=("POST",))
def store_resume_view(request: AgentRequest, store_id: int) -> HttpResponse:
    store_resume(user=request.user, store_id=store_id)
    messages.success(request, _("Sync resumed."))
    return _back(store_id, "sync")


@web_view(methods=("POST",))
def store_backfill_view(request: AgentRequest, store_id: int) -> HttpResponse:
    """Backfill from a day (the date input's YYYY-MM-DD)."""
    typed = request.POST.get("since", "").strip()[:40]
    try:
        try:
            since = date.fromisoformat(typed)
        except ValueError:
            raise ValidationFailed(_("since: a day such as 2026-01-31"), field="since") from None
        count = store_backfill(
            user=request.user, store_id=store_id, since=since, stream=request.POST.get("stream", "").strip() or None
        )
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(
            request, store_id, status=exc.status_code, errors={"since": exc.message}, backfill_since=typed
        )
    messages.success(
        request, _("The next sync reads %(count)d stream(s) again from %(day)s.") % {"count": count, "day": since}
    )
    return _back(store_id, "sync")


@web_view(methods=("POST",))
def store_sync_now_view(request: AgentRequest, store_id: int) -> HttpResponse:
    try:
        queued = store_sync_now(
            user=request.user, store_id=store_id, stream=request.POST.get("stream", "").strip() or None
        )
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(request, store_id, status=exc.status_code, errors={"run": exc.message})
    messages.success(request, _("Sync queued: %(streams)s.") % {"streams": ", ".join(queued)})
    return _back(store_id, "sync")


@web_view(methods=("POST",))
def store_webhooks_subscribe_view(request: AgentRequest, store_id: int) -> HttpResponse:
    """Register the store's webhooks on the platform; the outcome is shown in the webhook section."""
    try:
        result = store_webhooks_subscribe(user=request.user, store_id=store_id)
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(request, store_id, status=exc.status_code, errors={"webhooks": exc.message})
    if result.ok:
        messages.success(
            request,
            _("Webhooks registered: %(created)d new, %(existing)d already there.")
            % {"created": len(result.created), "existing": len(result.existing)},
        )
    else:
        messages.error(request, _("The platform refused the webhooks: %(detail)s") % {"detail": result.detail})
    return _back(store_id, "webhook")


OAUTH_SESSION_KEY = "mailbox_oauth"


@web_view(methods=("POST",))
def mailbox_oauth_connect_view(request: AgentRequest, store_id: int) -> HttpResponse:
    """Send the admin to the mailbox's OAuth provider to consent; state and PKCE verifier wait in
    the session for the callback."""
    try:
        pending = mailbox_oauth_start(user=request.user, store_id=store_id)
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(request, store_id, status=exc.status_code, errors={"oauth": exc.message})
    request.session[OAUTH_SESSION_KEY] = {
        "store_id": store_id,
        "state": pending.state,
        "verifier": pending.code_verifier,
    }
    return redirect(pending.url)


@web_view()
def mailbox_oauth_callback_view(request: AgentRequest) -> HttpResponse:
    """The provider sends the admin back here (the redirect URL registered in the OAuth app)."""
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    if not isinstance(pending, dict) or not isinstance(pending.get("store_id"), int):
        raise ValidationFailed(_("no mailbox connection was started in this session: start it again"), field="state")
    store_id = pending["store_id"]
    try:
        address = mailbox_oauth_finish(
            user=request.user,
            store_id=store_id,
            callback_url=request.build_absolute_uri(),
            state=str(pending.get("state") or ""),
            code_verifier=str(pending.get("verifier") or ""),
        )
    except DomainError as exc:
        _page_error(exc)
        messages.error(request, _("The mailbox was not connected: %(reason)s") % {"reason": exc.message})
        return _back(store_id, "oauth")
    messages.success(request, _("Mailbox %(address)s connected.") % {"address": address})
    return _back(store_id, "oauth")


@web_view()
def store_quarantine_page(request: AgentRequest, store_id: int) -> HttpResponse:
    """The store's quarantined records, newest first, 25 a page; each payload as escaped JSON."""
    connection = store_connection(request.user, store_id)
    paginator = Paginator(quarantined_records(request.user, store_id), QUARANTINE_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {"event": e, "payload": json.dumps(e.payload, indent=2, ensure_ascii=False, sort_keys=True, default=str)}
        for e in page.object_list
    ]
    context = {"settings_section": "stores", "c": connection, "store": connection.store, "page": page, "rows": rows}
    return render(request, "web/settings/sync/quarantine.html", context)


@web_view(methods=("POST",))
def quarantined_retry_view(request: AgentRequest, raw_event_id: int) -> HttpResponse:
    """Retry one quarantined record; back to its store's list with the outcome."""
    store_id = request.POST.get("store_id", "")
    outcome = quarantined_retry(user=request.user, raw_event_id=raw_event_id)
    if outcome.action == "quarantined":
        messages.error(request, _("Still quarantined: %(reason)s") % {"reason": outcome.reason})
    else:
        messages.success(request, _("Imported (%(action)s).") % {"action": outcome.action})
    if store_id.isdigit() and len(store_id) < 19:
        return redirect("web:settings_store_quarantine", store_id=int(store_id))
    return redirect("web:settings_attention")


@web_view()
def attention_page(request: AgentRequest) -> HttpResponse:
    """Needs a human: paused stores, quarantined records, write-backs failed or of unknown outcome."""
    found = attention_list(request.user)
    return render(request, "web/settings/sync/attention.html", {"settings_section": "attention", "a": found})
