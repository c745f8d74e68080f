"""The ticket page and its actions: internal note, status, assignee, classification, tags, merge,
retry of a failed delivery (the reply box and translations have their own modules).

Each action is a small POST form that works without JavaScript (redirect back to the ticket) and
with htmx (the section is re-rendered in place, with the header, properties and timeline swapped
out of band so the page stays consistent). A DomainError from a service is shown next to its
field with the service's 4xx status; "not found" and "forbidden" become the 404/403 pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, has_perm
from aftersales.accounts.selectors import teams_of_organization, users_of_organization
from aftersales.core.clock import now
from aftersales.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.models import (
    Message,
    MessageDirection,
    Ticket,
    TicketCategory,
    TicketStatus,
    Urgency,
)
from aftersales.inbox.selectors import allowed_statuses, ticket_detail, ticket_get
from aftersales.inbox.services import (
    message_retry_delivery,
    ticket_add_note,
    ticket_assign,
    ticket_change_status,
    ticket_merge,
    ticket_set_tags,
    ticket_update,
)
from aftersales.inbox.services.collisions import seen_message_id_of
from aftersales.language.selectors import reply_templates
from aftersales.language.services import customer_language
from aftersales.returns.rma_selectors import with_open_rma
from aftersales.returns.selectors import return_requests_of_ticket

from ..access import AgentRequest, web_view
from ..forms import MergeForm, first_error
from ..templatetags.web_ui import MENTION_RE
from ..timeline import timeline_items
from ..translations import engine_code, message_languages
from ..uploads import attachment_error, uploaded_attachments

SECTIONS = {
    "header": "web/tickets/_header.html",
    "props": "web/tickets/_props.html",
    "timeline": "web/tickets/_timeline.html",
    "reply": "web/tickets/_reply.html",
    "note": "web/tickets/_note.html",
    "merge": "web/tickets/_merge.html",
}
ANCHORS = {
    "header": "ticket-header",
    "props": "ticket-props",
    "timeline": "ticket-timeline",
    "reply": "reply-box",
    "note": "note-box",
    "merge": "merge-box",
}
# Fields each section shows errors next to; other errors are shown at the top of the section.
SECTION_FIELDS = {
    "reply": ("body", "status", "draft", "translate", "template_id", "attachments"),
    "note": ("body", "attachments"),
    "props": ("status", "assignee_id", "category", "urgency", "team_id", "tags"),
    "merge": ("target_id", "confirm_differences"),
}
# Sections refreshed (out of band) after a successful action, besides the one that was submitted.
REFRESHED = ("header", "props", "timeline")


def reply_box_context(request: AgentRequest, ticket: Ticket) -> dict[str, Any]:
    """What the reply box needs besides the ticket: statuses, languages, templates."""
    user = request.user
    language = customer_language(ticket)
    return {
        "ticket": ticket,
        "is_closed": ticket.status == TicketStatus.CLOSED,
        "reply_statuses": [c for c in allowed_statuses(ticket) if c[0] != TicketStatus.NEW],
        "customer_language": language,
        "agent_language": user.language,
        "can_translate": engine_code(user.language) != language,
        "reply_templates": list(reply_templates(organization_id=ticket.organization_id)),
        "can_process": has_perm(user, Permission.PROCESS) and ticket.merged_into_id is None,
        # reviewing a template variant changes the organization's templates: admins only
        "can_review_templates": has_perm(user, Permission.ADMINISTER),
        "idempotency_key": request.POST.get("idempotency_key", "").strip()[:120] or uuid.uuid4().hex,
        # the last message on screen: a colleague's reply after it asks for confirmation (collisions)
        "seen_message_id": seen_message_id_of(request.POST.get("seen_message_id"), ticket),
        "errors": {},
        "values": {},
    }


def ticket_context(request: AgentRequest, ticket_id: int, **extra: Any) -> dict[str, Any]:
    user = request.user
    detail = ticket_detail(user, ticket_id)
    ticket = detail.ticket
    users = users_of_organization(user)
    teams = list(teams_of_organization(user))
    can_process = has_perm(user, Permission.PROCESS)
    can_reply = has_perm(user, Permission.REPLY)
    messages_shown = [e.message for e in detail.timeline if e.message is not None]
    languages = message_languages(user, messages_shown)
    users_by_id = {u.pk: str(u) for u in users}
    return {
        **(reply_box_context(request, ticket) if can_reply else {}),
        "detail": detail,
        "ticket": ticket,
        "items": timeline_items(detail.timeline, users_by_id, {t.pk: t.name for t in teams}, languages),
        "order": detail.order,
        "return_requests": with_open_rma(list(return_requests_of_ticket(ticket_id=ticket.pk))),
        "now_instant": now(),
        "customer": ticket.customer,
        "tags": detail.tags,
        "can_process": can_process and ticket.merged_into_id is None,
        "can_reply": can_reply and ticket.merged_into_id is None,
        "can_retry": can_reply,
        "is_closed": ticket.status == TicketStatus.CLOSED,
        "statuses": allowed_statuses(ticket),
        "reply_statuses": [c for c in allowed_statuses(ticket) if c[0] != TicketStatus.NEW],
        "categories": TicketCategory.choices,
        "urgencies": Urgency.choices,
        "teams": teams,
        "assignees": [u for u in users if has_perm(u, Permission.PROCESS)],
        "colleagues": [u for u in users if u.pk != user.pk],
        "idempotency_key": uuid.uuid4().hex,
        "errors": {},
        "values": {},
        "message_errors": {},
        **extra,
    }


@web_view()
def ticket_page(request: AgentRequest, ticket_id: int) -> HttpResponse:
    return render(request, "web/tickets/page.html", ticket_context(request, ticket_id))


def ticket_for(request: AgentRequest, ticket_id: int, perm: str) -> Ticket:
    """The ticket if the user may see it (else 404), and if the role allows `perm` (else 403)."""
    ticket = ticket_get(request.user, ticket_id)
    check_perm(request.user, perm)
    return ticket


def raise_if_page_error(exc: DomainError) -> None:
    """Forbidden, or the ticket itself not found: a page-level error, not a field error."""
    if isinstance(exc, PermissionDenied) or (isinstance(exc, NotFound) and exc.field in (None, "ticket_id")):
        raise exc


def section_done(request: AgentRequest, ticket_id: int, section: str, *, notice: str = "") -> HttpResponse:
    """After a successful action: the section again (htmx) or back to the ticket page."""
    if not request.htmx:
        if notice:
            messages.success(request, notice)
        return redirect(reverse("web:ticket", args=[ticket_id]) + f"#{ANCHORS[section]}")
    context = ticket_context(request, ticket_id, notice=notice)
    html = render_to_string(SECTIONS[section], context, request)
    for other in REFRESHED:
        if other != section:
            html += render_to_string(SECTIONS[other], {**context, "oob": True, "notice": ""}, request)
    return HttpResponse(html)


def section_failed(
    request: AgentRequest, ticket_id: int, section: str, exc: DomainError, values: dict[str, str] | None = None
) -> HttpResponse:
    """A refused action: the message next to its field, with the error's 4xx status."""
    raise_if_page_error(exc)
    name = exc.field if exc.field in SECTION_FIELDS.get(section, ()) else "general"
    errors = {section: {name: exc.message}}
    context = ticket_context(request, ticket_id, errors=errors, values=values or {})
    template = SECTIONS[section] if request.htmx else "web/tickets/page.html"
    return render(request, template, context, status=exc.status_code)


@web_view(methods=("POST",))
def ticket_note_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    body = request.POST.get("body", "")
    try:
        _note, mentioned = ticket_add_note(
            ticket=ticket, author=request.user, body=body, attachments=uploaded_attachments(request)
        )
    except DomainError as exc:
        return section_failed(request, ticket_id, "note", attachment_error(exc), {"body": body})
    notified = {u.username.lower() for u in mentioned}
    missed = sorted({n for n in MENTION_RE.findall(body) if n.lower() not in notified})
    notice = _("Note added.")
    if mentioned:
        notice += " " + _("Notified: %(names)s.") % {"names": ", ".join(str(u) for u in mentioned)}
    if missed:
        notice += " " + _("Not notified (unknown or cannot see this ticket): %(names)s.") % {
            "names": ", ".join("@" + n for n in missed)
        }
    return section_done(request, ticket_id, "note", notice=notice)


@web_view(methods=("POST",))
def ticket_status_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    try:
        ticket_change_status(ticket=ticket, actor=request.user, status=request.POST.get("status", ""))
    except DomainError as exc:
        return section_failed(request, ticket_id, "props", exc)
    return section_done(request, ticket_id, "props", notice=_("Status changed."))


def _colleague(request: AgentRequest, raw: str) -> User | None:
    if raw in ("", "none"):
        return None
    if not raw.isdigit():
        raise ValidationFailed(_("choose a colleague"), field="assignee_id")
    user = next((u for u in users_of_organization(request.user) if u.pk == int(raw)), None)
    if user is None:
        raise NotFound(_("assignee not found"), field="assignee_id")
    return user


@web_view(methods=("POST",))
def ticket_assign_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    try:
        assignee = _colleague(request, request.POST.get("assignee", "").strip())
        ticket_assign(ticket=ticket, actor=request.user, assignee=assignee)
    except DomainError as exc:
        return section_failed(request, ticket_id, "props", exc)
    return section_done(request, ticket_id, "props", notice=_("Assignee changed."))


@web_view(methods=("POST",))
def ticket_route_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Route by skill (triage.routing.ticket_route, the service of POST /api/v1/tickets/{id}/route);
    the notice and the timeline say why."""
    from aftersales.triage.routing import ticket_route

    from ..timeline import routing_explanation

    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    try:
        decision = ticket_route(ticket=ticket, actor=request.user, strategy=request.POST.get("strategy") or None)
    except DomainError as exc:
        return section_failed(request, ticket_id, "props", exc)
    if decision.team_id is None:
        return section_done(request, ticket_id, "props", notice=_("Routing: no team's scope admits this ticket."))
    return section_done(
        request,
        ticket_id,
        "props",
        notice=_("Routed by skill: %(why)s") % {"why": routing_explanation(decision.explanation)},
    )


@web_view(methods=("POST",))
def ticket_fields_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Category, urgency, team and the high-priority mark; fields not posted stay as they are."""
    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    post = request.POST
    changes: dict[str, Any] = {}
    try:
        if "category" in post:
            changes["category"] = post["category"]
        if "urgency" in post:
            changes["urgency"] = post["urgency"]
        if "is_high_priority" in post:
            changes["is_high_priority"] = "1" in post.getlist("is_high_priority")
        if "team" in post:
            raw = post["team"].strip()
            if raw and not raw.isdigit():
                raise ValidationFailed(_("choose a team"), field="team_id")
            team = teams_of_organization(request.user).filter(pk=int(raw)).first() if raw else None
            if raw and team is None:
                raise NotFound(_("team not found"), field="team_id")
            changes["team"] = team
        ticket_update(ticket=ticket, actor=request.user, **changes)
    except DomainError as exc:
        return section_failed(request, ticket_id, "props", exc)
    return section_done(request, ticket_id, "props", notice=_("Ticket updated."))


@web_view(methods=("POST",))
def ticket_tags_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    add = [t for t in request.POST.get("add", "").split(",") if t.strip()]
    remove = [t for t in request.POST.getlist("remove") if t.strip()]
    try:
        if not add and not remove:
            raise ValidationFailed(_("type a tag to add"), field="tags")
        ticket_set_tags(ticket=ticket, actor=request.user, add=add, remove=remove)
    except DomainError as exc:
        if exc.field and exc.field.startswith("add["):
            exc.field = "tags"
        return section_failed(request, ticket_id, "props", exc)
    return section_done(request, ticket_id, "props", notice=_("Tags updated."))


@web_view(methods=("POST",))
def ticket_merge_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_for(request, ticket_id, Permission.PROCESS)
    form = MergeForm(request.POST)
    values = {"target_id": request.POST.get("target_id", "")}
    if not form.is_valid():
        _field, message = first_error(form)
        return section_failed(request, ticket_id, "merge", ValidationFailed(message, field="target_id"), values)
    target_id = form.cleaned_data["target_id"]
    try:
        try:
            target = ticket_get(request.user, target_id)
        except NotFound:
            raise NotFound(_("ticket #%(target_id)s not found") % {"target_id": target_id}, field="target_id") from None
        ticket_merge(
            source=ticket,
            target=target,
            actor=request.user,
            # the box confirms the differences shown for this target, not for another number typed later
            confirm_differences=request.POST.get("confirm_differences") == str(target_id),
        )
    except DomainError as exc:
        return section_failed(request, ticket_id, "merge", exc, values)
    messages.success(request, _("Ticket #%(source)s was merged into this ticket.") % {"source": ticket_id})
    url = reverse("web:ticket", args=[target_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@web_view(methods=("POST",))
def message_retry_view(request: AgentRequest, ticket_id: int, message_id: int) -> HttpResponse:
    ticket = ticket_for(request, ticket_id, Permission.REPLY)
    message = Message.objects.filter(pk=message_id, ticket_id=ticket.pk, direction=MessageDirection.OUTBOUND).first()
    if message is None:
        raise NotFound(_("message not found"), field="message_id")
    try:
        message_retry_delivery(message=message, actor=request.user)
    except DomainError as exc:
        return section_failed(request, ticket_id, "timeline", exc)
    return section_done(request, ticket_id, "timeline", notice=_("Delivery retried."))
