"""Notifications: the list, marking read, following one to its ticket, the unread badge."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound
from aftersales.notifications.models import Notification
from aftersales.notifications.selectors import notifications_for, unread_count
from aftersales.notifications.services import notification_mark_read

from ..access import AgentRequest, web_view

PAGE_SIZE = 100


def _context(request: AgentRequest) -> dict[str, object]:
    return {
        "notifications": list(notifications_for(request.user, limit=PAGE_SIZE)),
        "unread": unread_count(request.user),
    }


@web_view()
def notifications_page(request: AgentRequest) -> HttpResponse:
    return render(request, "web/notifications/page.html", _context(request))


@web_view()
def notifications_badge(request: AgentRequest) -> HttpResponse:
    """The unread count for the top bar (polled by htmx)."""
    return render(request, "web/notifications/_badge.html", {"unread": unread_count(request.user)})


@web_view(methods=("POST",))
def notifications_mark_read(request: AgentRequest) -> HttpResponse:
    """Mark the posted notification ids read, or all of them when none are posted."""
    raw = request.POST.getlist("ids")
    notification_mark_read(user=request.user, ids=raw or None)  # the service checks the ids
    if request.htmx:
        return render(request, "web/notifications/_list.html", _context(request))
    return redirect("web:notifications")


@web_view()
def notification_open(request: AgentRequest, notification_id: int) -> HttpResponse:
    """Follow a notification: it is marked read and the agent lands on its ticket."""
    notification = Notification.objects.filter(pk=notification_id, user=request.user).first()
    if notification is None:
        raise NotFound(_("notification not found"), field="notification_id")
    notification_mark_read(user=request.user, ids=[notification.pk])
    if notification.ticket_id:
        return redirect(reverse("web:ticket", args=[notification.ticket_id]))
    return redirect("web:notifications")
