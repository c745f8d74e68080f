"""The reply box: the agent writes in their own language, translates it for the customer (a draft
in the customer's language, editable, with a back-translation to check it), or starts from a reply
template rendered in the customer's language; "Send" sends the draft (or the text as written when
there is none) and keeps the agent's original next to it.

Translating and picking a template change nothing: they re-render the reply box (htmx) or the page
(without JavaScript) with the draft in the form. A translation error is shown next to the box and
the agent can still send their text as written."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from aftersales.accounts.models import Permission
from aftersales.core.errors import DomainError, NotFound, ValidationFailed
from aftersales.inbox.models import Ticket
from aftersales.inbox.services.collisions import parse_seen_message_id
from aftersales.inbox.services.template_replies import ticket_template_reply
from aftersales.language.models import ReplyTemplateVariant
from aftersales.language.selectors import reply_templates
from aftersales.language.services import (
    TranslationUnavailable,
    UnsupportedPair,
    customer_language,
    reply_draft_translate,
    reply_send,
)
from aftersales.language.templates import context_for_ticket, render_template, variant_approve

from ..access import AgentRequest, web_view
from ..drafts import DraftState, applied_template_id, macro_summary, reply_values
from ..templatetags.web_ui import language_name
from ..translations import engine_code
from ..uploads import attachment_error, uploaded_attachments
from .navigation import inbox_query_string, neighbour_url
from .tickets import raise_if_page_error, reply_box_context, section_done, section_failed, ticket_context, ticket_for


def translation_error(exc: DomainError, *, source: str, target: str) -> str:
    """A translation refusal in the agent's words (the engine's detail is shown beneath it)."""
    if isinstance(exc, UnsupportedPair):
        text = _("No translation from %(source)s into %(target)s is set up. You can still send your text as written.")
        return text % {"source": language_name(source), "target": language_name(target)}
    if isinstance(exc, TranslationUnavailable):
        return _("The translation service is not available right now. Try again in a minute, or send as written.")
    return exc.message


def _box(
    request: AgentRequest,
    ticket: Ticket,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str = "",
) -> HttpResponse:
    """The reply box again (htmx), or the whole ticket page with the box filled in."""
    extra = {"errors": {"reply": errors or {}}, "values": values, "notice": notice}
    if request.htmx:
        context = {**reply_box_context(request, ticket), **extra}
        return render(request, "web/tickets/_reply.html", context, status=status)
    context = ticket_context(request, ticket.pk, **extra)
    context["idempotency_key"] = request.POST.get("idempotency_key", "").strip()[:120] or context["idempotency_key"]
    return render(request, "web/tickets/page.html", context, status=status)


def _translate_failed(
    request: AgentRequest, ticket: Ticket, exc: DomainError, values: dict[str, Any], target: str
) -> HttpResponse:
    raise_if_page_error(exc)
    if exc.field == "text":
        errors = {"body": exc.message}
    else:
        errors = {"translate": translation_error(exc, source=request.user.language, target=target)}
        if isinstance(exc, (UnsupportedPair, TranslationUnavailable)):
            errors["translate_detail"] = exc.message
    return _box(request, ticket, values, errors=errors, status=exc.status_code)


@web_view(methods=("POST",))
def reply_translate_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """ "Translate for the customer" (or "Discard translation" with discard=1)."""
    ticket = ticket_for(request, ticket_id, Permission.REPLY)
    if request.POST.get("discard"):
        return _box(request, ticket, reply_values(request.POST))
    target = customer_language(ticket)
    try:
        draft = reply_draft_translate(user=request.user, ticket=ticket, text=request.POST.get("body", ""))
    except DomainError as exc:
        return _translate_failed(request, ticket, exc, reply_values(request.POST), target)
    return _box(request, ticket, reply_values(request.POST, DraftState.of_draft(draft)))


@web_view(methods=("POST",))
def reply_template_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Fill the reply box from a template: the customer's language goes in the draft (the text
    sent), the agent's language in their own box (kept as the original)."""
    ticket = ticket_for(request, ticket_id, Permission.REPLY)
    user = request.user
    current = reply_values(request.POST, DraftState.from_post(request.POST))
    target = customer_language(ticket)
    raw = request.POST.get("template_id", "").strip()
    try:
        if not raw.isdigit():
            raise ValidationFailed(_("Choose a template first."), field="template_id")
        template = reply_templates(organization_id=ticket.organization_id).filter(pk=int(raw)).first()
        if template is None:
            raise NotFound(_("This template does not exist (any more)."), field="template_id")
        variables = context_for_ticket(ticket, agent=user)
        rendered = render_template(template=template, language=target, context=variables)
    except DomainError as exc:
        raise_if_page_error(exc)
        message = translation_error(exc, source=user.language, target=target)
        return _box(request, ticket, current, errors={"template_id": message}, status=exc.status_code)
    values: dict[str, Any] = {"status": current["status"], "draft": None}
    notice = ""
    if engine_code(user.language) == rendered.language:
        values["body"] = rendered.text
        if rendered.needs_review:
            notice = _("Machine-translated variant, to review")
    else:
        try:
            own = render_template(template=template, language=user.language, context=variables).text
        except DomainError:
            own = ""  # no variant in the agent's language and none can be made: the draft alone
        variant_id = template.variants.filter(language=rendered.language).values_list("pk", flat=True).first()
        values["body"] = own
        values["draft"] = DraftState.of_template(rendered, source=own, in_agent_language=own, variant_id=variant_id)
    if not rendered.macro.is_empty:  # sending applies the template's macro (language.templates)
        values["applied_template_id"] = template.pk
        values["macro_summary"] = macro_summary(rendered.macro, assignee_name=str(template.assign_user or ""))
    return _box(request, ticket, values, notice=notice)


@web_view(methods=("POST",))
def template_variant_approve_view(request: AgentRequest, ticket_id: int, variant_id: int) -> HttpResponse:
    """The agent reviewed a machine-translated template variant shown in the reply box."""
    ticket_for(request, ticket_id, Permission.PROCESS)
    variant = ReplyTemplateVariant.objects.select_related("template").filter(pk=variant_id).first()
    if variant is None:
        raise NotFound(_("template not found"), field="variant_id")
    variant_approve(user=request.user, variant=variant)  # NotFound for another seller's template
    if request.htmx:
        return render(request, "web/tickets/_variant_reviewed.html", {"variant": variant})
    messages.success(request, _("Template variant marked as reviewed."))
    return redirect(reverse("web:ticket", args=[ticket_id]) + "#reply-box")


@web_view(methods=("POST",))
def ticket_reply_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Send the reply: the draft in the customer's language when there is one (what the agent wrote
    is kept next to it, in the same transaction: if it cannot be stored, nothing is sent), else
    the text as written. One service for the API and the UI: language.services.reply_send.

    The service may ask for a confirmation (a text as written in another language than the
    customer's; a colleague's reply after the last message on screen): the box comes back with the
    warning and a checkbox, and with the colleague's reply in the timeline."""
    ticket = ticket_for(request, ticket_id, Permission.REPLY)
    post = request.POST
    body = post.get("body", "")
    draft = DraftState.from_post(post)
    written = draft is not None and bool(body.strip())  # a template draft may have no text of the agent's
    try:
        reply_send(
            ticket=ticket,
            author=request.user,
            body=draft.text if draft is not None else body,
            idempotency_key=post.get("idempotency_key", "").strip() or None,
            status=post.get("status") or None,
            original_text=body if written else None,
            original_language=request.user.language if written else None,
            draft=draft.reply_draft(original_language=request.user.language, language=customer_language(ticket))
            if draft is not None
            else None,
            confirm_language=post.get("confirm_language") == "1",
            seen_message_id=parse_seen_message_id(post.get("seen_message_id")),
            confirm_newer=post.get("confirm_newer") == "1",
            attachments=uploaded_attachments(request),
            template_id=applied_template_id(post),
        )
    except DomainError as exc:
        values = reply_values(post, draft)
        if exc.field in CONFIRMATIONS:
            return _confirm(request, ticket, exc, values)
        return section_failed(request, ticket_id, "reply", attachment_error(exc), values)
    if post.get("then") == "next":  # "Send and next": the next ticket of the list the agent came from
        messages.success(request, _("Reply queued for delivery."))
        url = neighbour_url(request, ticket, inbox_query_string(post.get("in")))
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    request.POST = _without(post, "seen_message_id")  # the box starts again from the page as it is now
    return section_done(request, ticket_id, "reply", notice=_("Reply queued for delivery."))


CONFIRMATIONS = ("confirm_language", "confirm_newer")


@web_view(methods=("POST",))
def ticket_template_message_view(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Send one of the store's approved templates from the reply box's picker (WhatsApp, window
    closed): the same service as POST /api/v1/tickets/{id}/template-messages. A refusal names the
    field; nothing is queued then."""
    ticket = ticket_for(request, ticket_id, Permission.REPLY)
    post = request.POST
    try:
        ticket_template_reply(
            ticket=ticket,
            author=request.user,
            name=post.get("name", ""),
            language=post.get("language", ""),
            variables=post.getlist("variables"),
            header={k: post.get(f"header_{k}", "") for k in ("text", "link", "filename")},
            buttons=[
                {"index": int(name.removeprefix("button_")), "value": post.get(name, "")}
                for name in post
                if name.startswith("button_") and name.removeprefix("button_").isdigit() and post.get(name, "").strip()
            ],
        )
    except DomainError as exc:
        messages.error(request, f"{exc.field}: {exc.message}" if exc.field else exc.message)
    else:
        messages.success(request, _("Template queued for delivery."))
    return redirect(reverse("web:ticket", args=[ticket.pk]) + "#reply-box")


def _confirm(request: AgentRequest, ticket: Ticket, exc: DomainError, values: dict[str, Any]) -> HttpResponse:
    """The box with the service's question and a checkbox; confirmations already given are kept."""
    for name in CONFIRMATIONS:
        values[name] = request.POST.get(name) == "1"
    response = _box(request, ticket, values, errors={exc.field or "general": exc.message}, status=exc.status_code)
    if request.htmx and exc.field == "confirm_newer":  # show the colleague's reply too
        context = ticket_context(request, ticket.pk)
        response.content += render_to_string("web/tickets/_timeline.html", {**context, "oob": True}, request).encode()
    return response


def _without(data: QueryDict, *names: str) -> Any:
    """The POST data without `names`, read-only again (what request.POST is)."""
    copy = data.copy()
    for name in names:
        copy.pop(name, None)
    copy._mutable = False
    return copy
