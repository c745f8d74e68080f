"""Connecting a store through its platform's consent page (Shopee, TikTok Shop, AliExpress, Wish,
Shopify): "Connect to <platform>" on the store page (organization admins) and the callback the
platform sends the admin back to. One service each (channels.authorization), as the API's
/stores/{id}/authorization routes; the state is bound to this admin's session."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.channels.authorization import (
    session_binding,
    store_authorization_finish,
    store_authorization_start,
)
from aftersales.core.errors import DomainError

from ..access import AgentRequest, web_view
from .settings_sync import _connection_page, _page_error


def _binding(request: AgentRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return session_binding(str(request.session.session_key))


@web_view(methods=("POST",))
def store_authorize_view(request: AgentRequest, store_id: int) -> HttpResponse:
    """Send the admin to the platform's consent page (a refusal is shown on the store page)."""
    try:
        started = store_authorization_start(
            user=request.user, store_id=store_id, binding=_binding(request), shop=request.POST.get("shop", "")
        )
    except DomainError as exc:
        _page_error(exc)
        return _connection_page(
            request,
            store_id,
            status=exc.status_code,
            errors={"authorization": exc.message, "authorization_field": exc.field or "authorization"},
        )
    return redirect(started.url)


@web_view()
def store_authorization_callback_view(request: AgentRequest) -> HttpResponse:
    """The platform sends the admin back here (the redirect URL registered in the app). Any
    parameter that is not what was expected: an error page naming it (400), nothing saved."""
    params = dict(request.GET.lists())
    done = store_authorization_finish(user=request.user, binding=_binding(request), params=params)
    name = done.account_name or done.account_id
    messages.success(request, _("Connected to %(account)s. The first sync is on its way.") % {"account": name})
    return redirect(reverse("web:settings_store_connection", args=[done.store.pk]) + "#authorization")
