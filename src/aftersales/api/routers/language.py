"""The language engine for agents: translations of a message (re-translate, correct), translated
reply drafts, reply templates, batch translation jobs.

Organization settings of the engine (providers, routes, glossary, memory) are in language_config.py."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, check_ticket
from aftersales.core.errors import NotFound
from aftersales.inbox.models import Message, Ticket
from aftersales.inbox.selectors import message_get, ticket_get
from aftersales.language.models import ReplyTemplate
from aftersales.language.selectors import (
    attachment_texts,
    message_translation,
    reply_templates,
    translation_job_progress,
)
from aftersales.language.services import (
    UnsupportedPair,
    customer_language,
    message_retranslate,
    reply_draft_translate,
    translation_correct,
    translation_job_create,
)
from aftersales.language.templates import (
    context_for_ticket,
    render_template,
    reply_template_delete,
    reply_template_preview,
    reply_template_save,
    reply_template_update,
    variant_approve,
)

from ..auth import current_user
from ..schemas.common import ErrorOut, Id, with_errors
from ..schemas.language import (
    CorrectionIn,
    MessageTranslationOut,
    RenderedOut,
    RenderIn,
    ReplyDraftIn,
    ReplyDraftOut,
    ReplyTemplateIn,
    ReplyTemplateOut,
    ReplyTemplatePatchIn,
    RetranslateIn,
    TemplatePreviewIn,
    TemplatePreviewOut,
    TemplateVariantOut,
    TranslationJobIn,
    TranslationJobOut,
    VariantApproveIn,
)

router = Router(tags=["language"])


def with_translation_errors(ok: dict[int, Any]) -> dict[Any, Any]:
    """Operations that call a translation provider: 503 when every provider of the pair is down
    (worth retrying); an unsupported pair is a 422 listing the supported pairs."""
    return {**with_errors(ok), 503: ErrorOut}


# --- message translations -------------------------------------------------------------------


def _translation(user: User, message: Message) -> dict[str, Any]:
    view = message_translation(user=user, message=message)
    return {**asdict(view), "attachments": list(attachment_texts(user=user, message=message))}


@router.get("/messages/{message_id}/translation", response=with_errors({200: MessageTranslationOut}))
def get_message_translation(request: HttpRequest, message_id: Id) -> dict[str, Any]:
    """The detected language of a message, its translations by language (`pending` while a
    provider is down: retried automatically) and the text read from its attachments."""
    user = current_user(request)
    return _translation(user, message_get(user, message_id))


@router.post("/messages/{message_id}/retranslate", response=with_translation_errors({200: MessageTranslationOut}))
def retranslate_message(request: HttpRequest, message_id: Id, payload: RetranslateIn) -> dict[str, Any]:
    """Translate the message again, into `target_language` or every working language. Send `{}`
    for the default."""
    user = current_user(request)
    message = message_get(user, message_id)
    check_ticket(user, message.ticket, Permission.PROCESS)
    message = message_retranslate(user=user, message=message, target_language=payload.target_language)
    return _translation(user, message)


@router.post("/messages/{message_id}/translation/correct", response=with_errors({200: MessageTranslationOut}))
def correct_translation(request: HttpRequest, message_id: Id, payload: CorrectionIn) -> dict[str, Any]:
    """Replace the translation into `target_language` with your correction. It is remembered
    (translation memory) and wins over machine translation next time."""
    user = current_user(request)
    message = message_get(user, message_id)
    message = translation_correct(
        user=user, message=message, target_language=payload.target_language, text=payload.text
    )
    return _translation(user, message)


# --- outbound -------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/reply-drafts", response=with_translation_errors({200: ReplyDraftOut}))
def translate_reply_draft(request: HttpRequest, ticket_id: Id, payload: ReplyDraftIn) -> Any:
    """Translate what you wrote into the customer's language, with a back-translation to check
    it. Nothing is stored or sent: send the draft with POST /tickets/{ticket_id}/replies (`body`
    = `text`, plus `original_text` and `original_language`)."""
    user = current_user(request)
    ticket = ticket_get(user, ticket_id)
    return reply_draft_translate(
        user=user,
        ticket=ticket,
        text=payload.text,
        source_language=payload.source_language,
        target_language=payload.target_language,
    )


# --- templates ------------------------------------------------------------------------------


def _template(user: User, template_id: int) -> ReplyTemplate:
    check_perm(user, Permission.VIEW)
    template = reply_templates(organization_id=user.organization_id or 0).filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("template not found"), field="template_id")
    return template


@router.get("/reply-templates", response=with_errors({200: list[ReplyTemplateOut]}))
def list_reply_templates(request: HttpRequest) -> Any:
    """The organization's reply templates with their variants per language."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    return reply_templates(organization_id=user.organization_id or 0)


@router.post("/reply-templates", response=with_errors({201: ReplyTemplateOut, 200: ReplyTemplateOut}))
def save_reply_template(request: HttpRequest, payload: ReplyTemplateIn) -> Status[Any]:
    """Create a template (201), or update the one with this name (200): its source language,
    category and auto-reply flag are replaced, the variants sent replace those languages' variants,
    the others are kept. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    templates = reply_templates(organization_id=user.organization_id or 0)
    existed = templates.filter(name=" ".join(payload.name.split())).exists()
    template = reply_template_save(
        user=user,
        name=payload.name,
        source_language=payload.source_language,
        bodies=payload.bodies,
        category=payload.category.value if payload.category else "",
        is_auto_reply=payload.is_auto_reply,
        macro=payload.macro.as_macro() if payload.macro else None,
    )
    return Status(200 if existed else 201, templates.get(pk=template.pk))


@router.post("/reply-templates/preview", response=with_errors({200: TemplatePreviewOut}))
def preview_reply_template(request: HttpRequest, payload: TemplatePreviewIn) -> Any:
    """Fill a template text in with sample data (a made-up customer, order and tracking), checked
    as when it is saved: a syntax error or an unknown variable is a 422 naming `body`. Nothing is
    stored."""
    user = current_user(request)
    return reply_template_preview(user=user, body=payload.body, language=payload.language or "")


@router.patch("/reply-templates/{template_id}", response=with_errors({200: ReplyTemplateOut}))
def update_reply_template(request: HttpRequest, template_id: Id, payload: ReplyTemplatePatchIn) -> Any:
    """Change a template: the fields sent (null keeps a field, except `category`: null removes it).
    In `bodies`, a text replaces that language's variant and an empty text removes it. Admins only."""
    user = current_user(request)
    sent = payload.model_fields_set
    template = reply_template_update(
        user=user,
        template_id=template_id,
        name=payload.name,
        source_language=payload.source_language,
        category=(payload.category.value if payload.category else "") if "category" in sent else None,
        is_auto_reply=payload.is_auto_reply,
        bodies=payload.bodies,
        macro=payload.macro.as_macro() if payload.macro else None,
    )
    return reply_templates(organization_id=user.organization_id or 0).get(pk=template.pk)


@router.delete("/reply-templates/{template_id}", response=with_errors({204: None}))
def delete_reply_template(request: HttpRequest, template_id: Id) -> Status[None]:
    """Delete a template with all its variants. Admins only."""
    reply_template_delete(user=current_user(request), template_id=template_id)
    return Status(204, None)


@router.post("/reply-templates/{template_id}/render", response=with_translation_errors({200: RenderedOut}))
def render_reply_template(request: HttpRequest, template_id: Id, payload: RenderIn) -> Any:
    """Fill a template with a ticket's data (customer, order, tracking) in the customer's language
    (or `language`). A missing variant is machine-translated, saved and flagged `needs_review`."""
    user = current_user(request)
    template = _template(user, template_id)
    ticket: Ticket = ticket_get(user, payload.ticket_id)
    check_ticket(user, ticket, Permission.REPLY)
    try:
        return render_template(
            template=template,
            language=payload.language or customer_language(ticket),
            context=context_for_ticket(ticket, agent=user),
        )
    except UnsupportedPair as exc:
        raise UnsupportedPair(exc.message, field="language") from None


@router.post(
    "/reply-templates/{template_id}/variants/{language}/approve", response=with_errors({200: TemplateVariantOut})
)
def approve_template_variant(request: HttpRequest, template_id: Id, language: str, payload: VariantApproveIn) -> Any:
    """Mark a machine-translated variant as reviewed, optionally with a corrected `body`. `language`
    is the variant's code as listed by GET /reply-templates. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    template = _template(user, template_id)
    variants = list(template.variants.all())
    variant = next((v for v in variants if v.language == language.strip().lower()), None)
    if variant is None:
        known = ", ".join(sorted(v.language for v in variants)) or "none"
        raise NotFound(
            _("the template has no %(language)r variant; variants: %(known)s") % {"language": language, "known": known},
            field="language",
        )
    return variant_approve(user=user, variant=variant, body=payload.body)


# --- batch ----------------------------------------------------------------------------------


@router.post("/translation-jobs", response=with_errors({201: TranslationJobOut}))
def create_translation_job(request: HttpRequest, payload: TranslationJobIn) -> Status[Any]:
    """Translate the customer messages of up to 500 tickets in the background; follow the
    progress with GET /translation-jobs/{job_id}."""
    user = current_user(request)
    check_perm(user, Permission.PROCESS)
    job = translation_job_create(user=user, ticket_ids=payload.ticket_ids, target_languages=payload.target_languages)
    return Status(201, translation_job_progress(user=user, job_id=job.pk))


@router.get("/translation-jobs/{job_id}", response=with_errors({200: TranslationJobOut}))
def get_translation_job(request: HttpRequest, job_id: Id) -> Any:
    """Progress of a batch translation: counts, percent, the first errors."""
    return translation_job_progress(user=current_user(request), job_id=job_id)
