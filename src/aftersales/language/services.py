"""Writes of the language engine. The UI and the API call these (and selectors.py), nothing else.

Inbound: `message_translate` detects and translates a message into the agents' working languages
(run in the background for every MessageReceived); `message_retranslate` on request;
`translation_correct` stores an agent's correction and remembers it (translation memory).
Outbound: `reply_draft_translate` -> the agent checks the draft and its back-translation ->
inbox.ticket_reply(body=draft.text) -> `reply_record_translation` keeps the agent's original.
Admin: providers, routes, glossary import. Batch: `translation_job_create`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from aftersales.accounts.audit import instance_values, setting_changes_record
from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, check_ticket, organization_of, ticket_scope_q
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection, Ticket
from aftersales.inbox.services import (
    AttachmentInput,
    ticket_assign,
    ticket_reply_idempotent,
    ticket_set_tags,
)
from aftersales.inbox.services.collisions import check_no_newer_reply

from . import glossary, memory
from .detect import PLAUSIBLE, detect_language, is_short, strip_entities
from .events import TranslationJobCreated
from .inbound import messages_translate, translations_store, working_languages_of
from .languages import SUPPORTED, check_language, normalise, variant_for, working_code
from .models import (
    ANY,
    JobStatus,
    MessageTranslationState,
    ProviderConfig,
    ProviderKind,
    ReplyTemplate,
    TranslationJob,
    TranslationRoute,
    TranslationStatus,
)
from .protection import mask, relabel
from .providers.base import Health
from .providers.registry import build
from .routing import TranslationResult, TranslationUnavailable, UnsupportedPair, translate_text

logger = logging.getLogger(__name__)

MAX_JOB_TICKETS = 500
RETRY_BATCH = 20  # pending messages translated together (one transaction writes them)


def working_languages(organization_id: int) -> list[str]:
    """The working languages of the organization's active agents ("zh-hans", "en")."""
    return working_languages_of([organization_id])[organization_id]


def _stamp() -> str:
    return now().isoformat()


# --- inbound --------------------------------------------------------------------------------


def message_translate(*, message_id: int, targets: Sequence[str] | None = None) -> MessageTranslationState:
    """Detect the language of a message and translate it into `targets` (default: the working
    languages). Never raises for a translation failure: the state says pending (retried by
    `translations_retry_pending`), partial or unsupported. (The batch of one of
    `inbound.messages_translate`.)"""
    states = messages_translate(message_ids=[message_id], targets=targets)
    if message_id not in states:
        Message.objects.get(pk=message_id)  # (Message.DoesNotExist, as before)
        raise RuntimeError(f"the translation of message {message_id} crashed (logged)")
    return states[message_id]


def _store_translations(message_id: int, results: dict[str, dict], *, language: str | None = None) -> None:
    translations_store(results={message_id: results}, languages={message_id: language} if language else {})


def translations_retry_pending(*, limit: int = 100) -> int:
    """Retry the messages flagged "translation pending" whose time has come. Safe to run twice:
    each row is claimed with a conditional update that moves its next attempt forward."""
    due = list(
        MessageTranslationState.objects.filter(status=TranslationStatus.PENDING, next_attempt_at__lte=now())
        .order_by("next_attempt_at")
        .values_list("pk", "message_id", "next_attempt_at")[:limit]
    )
    claimed = [
        message_id
        for pk, message_id, at in due
        if MessageTranslationState.objects.filter(pk=pk, next_attempt_at=at).update(
            next_attempt_at=now() + timedelta(minutes=10)
        )
    ]
    for start in range(0, len(claimed), RETRY_BATCH):
        messages_translate(message_ids=claimed[start : start + RETRY_BATCH])
    return len(claimed)


def message_retranslate(*, user: User, message: Message, target_language: str | None = None) -> Message:
    """Translate a message again (the agent's "re-translate" button). Errors are raised to the
    caller: UnsupportedPair (422, lists the supported pairs) or TranslationUnavailable (503)."""
    check_ticket(user, message.ticket, Permission.PROCESS)
    if not message.body.strip():
        raise ValidationFailed(gettext("this message has no text to translate"), field="message_id")
    source = normalise(message.language)
    if source not in SUPPORTED:
        message_translate(message_id=message.pk)
        message.refresh_from_db()
        source = normalise(message.language)
        if source not in SUPPORTED:
            raise ValidationFailed(gettext("the language of this message could not be detected"), field="message_id")
    keys = [target_language] if target_language else working_languages(message.ticket.organization_id)
    results = {}
    for key in keys:
        target = check_language(key, field="target_language")
        if target == source:
            continue
        result = translate_text(
            organization_id=message.ticket.organization_id, text=message.body, source=source, target=target
        )
        results[working_code(key)] = result.as_json(_stamp())
    _store_translations(message.pk, results)
    MessageTranslationState.objects.update_or_create(
        message=message, defaults={"status": TranslationStatus.DONE, "last_error": "", "next_attempt_at": None}
    )
    message.refresh_from_db()
    return message


def translation_correct(*, user: User, message: Message, target_language: str, text: str) -> Message:
    """An agent corrects the translation of a message into `target_language`. The correction is
    shown at once and saved as an approved memory segment (whole text, and line by line when the
    lines correspond), so it wins over any provider the next time."""
    check_ticket(user, message.ticket, Permission.PROCESS)
    target = check_language(target_language, field="target_language")
    corrected = text.strip()
    if not corrected:
        raise ValidationFailed(gettext("the corrected translation must not be empty"), field="text")
    if len(corrected) > 20_000:
        raise ValidationFailed(gettext("the corrected translation is longer than 20000 characters"), field="text")
    source = normalise(message.language)
    if source not in SUPPORTED:
        raise ValidationFailed(gettext("the language of this message is not known yet"), field="message_id")
    if source == target:
        raise ValidationFailed(gettext("the message is already in that language"), field="target_language")
    org_id = message.ticket.organization_id
    terms = glossary.terms_for_text(org_id, source, target, message.body)  # as translate_text masks
    pairs = [(message.body.strip(), corrected)]
    src_lines = [line.strip() for line in message.body.splitlines() if line.strip()]
    dst_lines = [line.strip() for line in corrected.splitlines() if line.strip()]
    if len(src_lines) > 1 and len(src_lines) == len(dst_lines):
        pairs.extend(zip(src_lines, dst_lines, strict=True))
    with transaction.atomic():
        for src, dst in pairs:
            masked = mask(src, terms=terms)
            memory.remember(
                organization_id=org_id,
                source=source,
                target=target,
                masked_source=masked.text,
                masked_target=relabel(dst, masked),
                user_id=user.pk,
            )
        entry = {
            "text": corrected,
            "provider": "agent",
            "quality": "memory",
            "glossary_applied": [],
            "tm_applied": True,
            "flags": ["corrected"],
            "corrected_by": user.pk,
            "source_language": source,
            "at": _stamp(),
        }
        _store_translations(message.pk, {working_code(target): entry})
    message.refresh_from_db()
    return message


# --- outbound -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyDraft:
    original_text: str
    original_language: str  # the agent's language, as a Message.translations key ("zh-hans")
    text: str  # the draft in the customer's language: what is sent once the agent accepts it
    language: str  # the customer's language
    back_translation: str  # `text` translated back into the agent's language, to check it
    provider: str
    quality: str
    glossary_applied: tuple[str, ...]
    tm_applied: bool
    flags: tuple[str, ...]
    variant: str = ""  # the regional variant written ("pt-BR" for a buyer in Brazil), "" when none


def customer_language(ticket: Ticket) -> str:
    """The language to answer in: the latest inbound message's, else the ticket's / customer's /
    store's."""
    latest = (
        Message.objects.filter(ticket=ticket, direction=MessageDirection.INBOUND)
        .exclude(language="")
        .order_by("-created_at", "-id")
        .values_list("language", flat=True)
        .first()
    )
    for code in (latest, ticket.language, ticket.customer.preferred_language, ticket.store.default_language):
        if normalise(code) in SUPPORTED:
            return normalise(code)
    return "en"


def reply_draft_translate(
    *, user: User, ticket: Ticket, text: str, source_language: str | None = None, target_language: str | None = None
) -> ReplyDraft:
    """Translate what the agent wrote (in their working language) into the customer's language,
    with a back-translation for checking. Nothing is stored or sent."""
    check_ticket(user, ticket, Permission.REPLY)
    body = text.strip()
    if not body:
        raise ValidationFailed(gettext("write the reply first"), field="text")
    source_key = source_language or user.language
    source = check_language(source_key, field="source_language")
    target = check_language(target_language or customer_language(ticket), field="target_language")
    org_id = ticket.organization_id
    variant = variant_for(
        target,
        country=ticket.customer.country,
        store_country=ticket.store.country,
        site=ticket.store.site,
    )
    forward: TranslationResult = translate_text(
        organization_id=org_id, text=body, source=source, target=target, variant=variant
    )
    back = body
    if source != target:
        back = translate_text(organization_id=org_id, text=forward.text, source=target, target=source).text
    return ReplyDraft(
        original_text=body,
        original_language=working_code(source_key),
        text=forward.text,
        language=target,
        back_translation=back,
        provider=forward.provider,
        quality=forward.quality,
        glossary_applied=forward.glossary_applied,
        tm_applied=forward.tm_applied,
        flags=forward.flags,
        variant=forward.variant,
    )


def reply_record_translation(
    *,
    message: Message,
    original_text: str,
    original_language: str,
    draft: ReplyDraft | None = None,
    sent_language: str | None = None,
) -> Message:
    """After inbox.ticket_reply stored the text sent (the customer's language), keep what the agent
    wrote in their language in Message.translations, so the reply reads in both. `sent_language` is
    the language of the text sent when there is no draft to say it."""
    if message.direction != MessageDirection.OUTBOUND:
        raise ValidationFailed(gettext("only a reply to the customer has a written original"), field="message_id")
    if not original_text.strip() or len(original_text) > 20_000:
        raise ValidationFailed(gettext("the original text must have 1 to 20,000 characters"), field="original_text")
    key = working_code(original_language)
    check_language(key, field="original_language")
    entry = {
        "text": original_text.strip(),
        "provider": "author",
        "quality": "original",
        "glossary_applied": list(draft.glossary_applied) if draft else [],
        "tm_applied": draft.tm_applied if draft else False,
        "flags": [],
        "sent_translation": (
            {
                "provider": draft.provider,
                "quality": draft.quality,
                **({"variant": draft.variant} if draft.variant else {}),  # "pt-BR" for a buyer in Brazil
            }
            if draft
            else None
        ),
        "at": _stamp(),
    }
    language = (
        draft.language if draft else (check_language(sent_language, field="sent_language") if sent_language else None)
    )
    _store_translations(message.pk, {key: entry}, language=language)
    message.refresh_from_db()
    return message


def reply_send(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    idempotency_key: str | None = None,
    status: str | None = None,
    attachments: list[AttachmentInput] | None = None,
    original_text: str | None = None,
    original_language: str | None = None,
    draft: ReplyDraft | None = None,
    confirm_language: bool = False,
    seen_message_id: int | None = None,
    confirm_newer: bool = False,
    template_id: int | None = None,
) -> tuple[Message, bool]:
    """Queue a reply (inbox.ticket_reply_idempotent) and, when `body` is a translation, keep what
    the agent wrote (`original_text` in `original_language`) next to it: both are stored in one
    transaction, or neither, so a reply whose original cannot be stored is not sent (its
    ReplyQueued event is published on commit only). The API and the web UI both send through here.

    Returns (message, created): an Idempotency-Key already used on this ticket returns the first
    reply (created False) and records nothing again; the same key with a different original is a
    Conflict. `draft` says how the sent text was made (the web UI's translated draft); its source
    must be the original as sent. Locks the ticket row (through ticket_reply_idempotent).

    Two guards ask for a confirmation first: a text as written (no translation) that reads as
    another language than the customer's (422 on `confirm_language`, see check_reply_language),
    and, when `seen_message_id` (the last message the agent had on screen) is given, a colleague's
    reply written after it (409 on `confirm_newer`, inbox.services.collisions).

    `template_id`: the reply was built from this reply template; its macro is applied with the
    reply (template_macro_apply below): its status is the reply's when the agent chose none,
    its tags and assignment are applied as the agent, in the same transaction."""
    original = _reply_original(original_text, original_language)
    if draft is not None and draft.original_text.strip() != (original[0] if original else "").strip():
        raise ValidationFailed(
            gettext("You changed your text after it was translated: translate it again, or discard the translation."),
            field="draft",
        )
    if original is None and draft is None and not confirm_language:
        check_reply_language(ticket=ticket, body=body)
    with transaction.atomic():
        if seen_message_id is not None and not confirm_newer:
            locked = Ticket.objects.select_for_update().filter(pk=ticket.pk).first() or ticket
            check_no_newer_reply(ticket=locked, author=author, seen_message_id=seen_message_id, confirmed=False)
        if template_id is not None and not status:
            status = macro_status(template_id=template_id, organization_id=ticket.organization_id) or None
        message, created = ticket_reply_idempotent(
            ticket=ticket,
            author=author,
            body=body,
            idempotency_key=idempotency_key,
            status=status,
            attachments=attachments,
        )
        if created and template_id is not None:
            template_macro_apply(template_id=template_id, ticket=ticket, author=author)
        if original is not None:
            text, language = original
            if created:
                message = reply_record_translation(
                    message=message, original_text=text, original_language=language, draft=draft
                )
            elif not _same_original(message, text, language):
                # a replay records nothing; a different original under the same key is another reply
                raise Conflict(
                    gettext("this idempotency key was already used for a different reply"), field="original_text"
                )
    return message, created


def macro_status(*, template_id: int, organization_id: int) -> str:
    """The status a reply built from this reply template sets when the agent chose none ("")."""
    row = ReplyTemplate.objects.filter(pk=template_id, organization_id=organization_id).values_list(
        "set_status", flat=True
    )
    return row.first() or ""


def template_macro_apply(*, template_id: int, ticket: Ticket, author: User) -> None:
    """After a reply built from a reply template was stored (same transaction): add the template's
    tags and apply its assignment (templates.Macro) through the inbox services, as the agent. Its
    status is the reply's (macro_status), applied on delivery. NotFound for a template of another
    organization."""
    template = ReplyTemplate.objects.filter(pk=template_id, organization_id=ticket.organization_id).first()
    if template is None:
        raise NotFound(gettext("template not found"), field="template_id")
    if template.add_tags:
        ticket_set_tags(ticket=ticket, actor=author, add=list(template.add_tags))
    if template.assign_to == "user" and template.assign_user_id is None:
        return  # the user was removed since: keep the assignment
    if template.assign_to:
        target = {"self": author, "none": None}.get(template.assign_to, template.assign_user)
        ticket.refresh_from_db(fields=["assignee"])
        if (target.pk if target else None) != ticket.assignee_id:
            ticket_assign(ticket=ticket, actor=author, assignee=target)


# A reply "in the wrong language" must be clearly so: at least this much of lingua's relative
# confidence on another language, the customer's language below PLAUSIBLE, and a text long
# enough to judge (detect.is_short: 3 words, or 4 CJK characters). "OK", "Danke!" or an order
# number never ask.
WRONG_LANGUAGE_CONFIDENCE = 0.60


def language_label(code: str) -> str:
    """A language code as a name in the current UI language ("it" -> "Italian" / "意大利语")."""
    from django.utils.translation import get_language_info

    try:
        return str(get_language_info("zh-hans" if code == "zh" else code)["name_translated"])
    except KeyError:
        return SUPPORTED.get(code, code)


def check_reply_language(*, ticket: Ticket, body: str) -> None:
    """Refuse (422, field `confirm_language`, naming both languages) a reply sent as written whose
    text reads clearly as another language than the customer's; the caller passes
    `confirm_language` to send it anyway (a customer who wrote in English to a German store...)."""
    if is_short(strip_entities(body or "")):
        return  # too short to judge: never nag
    expected = customer_language(ticket)
    detection = detect_language(body)  # no fallbacks: only what the text itself says
    written = detection.language
    if detection.source != "detected" or not written or written == expected:
        return
    if detection.confidence < WRONG_LANGUAGE_CONFIDENCE or dict(detection.candidates).get(expected, 0.0) >= PLAUSIBLE:
        return
    raise ValidationFailed(
        gettext(
            "This reply reads as %(written)s, but the customer reads %(expected)s. "
            "Translate it for the customer, or confirm to send it as written."
        )
        % {"written": language_label(written), "expected": language_label(expected)},
        field="confirm_language",
        code="wrong_language",
    )


def _reply_original(text: str | None, language: str | None) -> tuple[str, str] | None:
    """(original_text, original_language) when the reply is a translation of what the agent wrote."""
    if text is None and language is None:
        return None
    if language is None:
        raise ValidationFailed(gettext("original_language is required with original_text"), field="original_language")
    if text is None:
        raise ValidationFailed(gettext("original_text is required with original_language"), field="original_text")
    if not text.strip():
        raise ValidationFailed(gettext("original_text must not be empty"), field="original_text")
    return text, language


def _same_original(message: Message, text: str, language: str) -> bool:
    entry = (message.translations or {}).get(working_code(language)) or {}
    return entry.get("provider") == "author" and entry.get("text") == text.strip()


# --- administration -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderInput:
    """A provider's settings, checked (the same checks for saving and for testing)."""

    name: str
    kind: str
    base_url: str
    options: dict
    timeout_seconds: float
    priority: int


def check_provider_input(
    *,
    name: str,
    kind: str,
    base_url: str = "",
    options: dict | None = None,
    timeout_seconds: float = 15.0,
    priority: int = 100,
) -> ProviderInput:
    if kind not in ProviderKind.values:
        raise ValidationFailed(
            gettext("unknown provider kind %(kind)r; expected one of %(kinds)s")
            % {"kind": kind, "kinds": ", ".join(ProviderKind.values)},
            field="kind",
        )
    clean = " ".join((name or "").split())
    if not clean or len(clean) > 60 or not clean.isprintable():
        raise ValidationFailed(gettext("name must have 1 to 60 characters"), field="name")
    base_url = (base_url or "").strip()
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ValidationFailed(gettext("base_url must start with http:// or https://"), field="base_url")
    if len(base_url) > 200:
        raise ValidationFailed(gettext("base_url must have at most 200 characters"), field="base_url")
    if not 0.5 <= timeout_seconds <= 120:
        raise ValidationFailed(gettext("timeout_seconds must be between 0.5 and 120"), field="timeout_seconds")
    if not 0 <= priority <= 32767:
        raise ValidationFailed(gettext("priority must be between 0 and 32767"), field="priority")
    options = dict(options or {})
    languages = options.get("languages")
    if languages is not None:
        if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
            raise ValidationFailed(gettext("languages must be a list of language codes"), field="options.languages")
        options["languages"] = [check_language(code, field="options.languages") for code in languages]
    return ProviderInput(clean, kind, base_url, options, float(timeout_seconds), int(priority))


def provider_config_save(
    *,
    user: User,
    name: str,
    kind: str,
    base_url: str = "",
    credentials: dict | None = None,
    options: dict | None = None,
    timeout_seconds: float = 15.0,
    priority: int = 100,
    is_enabled: bool = True,
    merge_credentials: bool = False,
    merge_options: bool = False,
) -> ProviderConfig:
    """Create or update a provider of the user's organization (admins only). Credentials are
    encrypted at rest; passing None keeps the stored ones; `merge_credentials` keeps the stored
    ones not given (the settings page: an empty key field keeps the key), `merge_options` the
    stored options the caller does not set (an empty value removes one)."""
    check_perm(user, Permission.ADMINISTER)
    clean = check_provider_input(
        name=name, kind=kind, base_url=base_url, options=options, timeout_seconds=timeout_seconds, priority=priority
    )
    defaults: dict = {
        "kind": clean.kind,
        "base_url": clean.base_url,
        "timeout_seconds": clean.timeout_seconds,
        "priority": clean.priority,
        "is_enabled": is_enabled,
    }
    with transaction.atomic():
        stored = (
            ProviderConfig.objects.select_for_update()
            .filter(organization_id=organization_of(user), name=clean.name)
            .first()
        )
        if credentials is not None:
            keep = merge_credentials and credentials and stored is not None  # {} removes them all
            kept = dict(stored.credentials or {}) if keep and stored is not None else {}
            defaults["credentials"] = {**kept, **credentials}
        options = clean.options
        if merge_options and stored is not None:  # what the form does not show (location, codes) stays
            options = {**(stored.options or {}), **options}
        defaults["options"] = {k: v for k, v in options.items() if v not in ("", None, [])}
        setting_changes_record(
            organization_id=organization_of(user),
            actor=user,
            setting=f"translation_provider.{clean.name}",
            old=None if stored is None else instance_values(stored, defaults),
            new=defaults,
            secret=("credentials",),
        )
        config, _ = ProviderConfig.objects.update_or_create(
            organization_id=organization_of(user), name=clean.name, defaults=defaults
        )
    return config


def provider_config_test(
    *,
    user: User,
    name: str,
    kind: str,
    base_url: str = "",
    credentials: dict | None = None,
    options: dict | None = None,
    timeout_seconds: float = 15.0,
) -> Health:
    """Call a provider once with a test sentence, with the settings given (before they are saved;
    credentials not given come from the stored provider of that name). Writes nothing."""
    check_perm(user, Permission.ADMINISTER)
    clean = check_provider_input(
        name=name, kind=kind, base_url=base_url, options=options, timeout_seconds=timeout_seconds
    )
    stored = ProviderConfig.objects.filter(organization_id=organization_of(user), name=clean.name).first()
    secrets = {**(dict(stored.credentials or {}) if stored is not None else {}), **(credentials or {})}
    options = {**(dict(stored.options or {}) if stored is not None else {}), **clean.options}
    config = ProviderConfig(
        name=clean.name,
        kind=clean.kind,
        base_url=clean.base_url,
        options={k: v for k, v in options.items() if v not in ("", None, [])},
        timeout_seconds=clean.timeout_seconds,
        credentials=secrets,
    )
    return build(config).health()


def _route_names(organization_id: int, source: str, target: str) -> list[str]:
    routes = TranslationRoute.objects.filter(
        organization_id=organization_id, source_language=source, target_language=target
    )
    return list(routes.order_by("position").values_list("provider__name", flat=True))


def translation_route_set(
    *, user: User, source_language: str, target_language: str, provider_names: Sequence[str]
) -> list[TranslationRoute]:
    """Replace the fallback chain of a pair ("*" = any language) with the named providers, in order."""
    check_perm(user, Permission.ADMINISTER)
    source = ANY if source_language == ANY else check_language(source_language, field="source_language")
    target = ANY if target_language == ANY else check_language(target_language, field="target_language")
    configs = {
        c.name: c
        for c in ProviderConfig.objects.filter(organization_id=organization_of(user), name__in=list(provider_names))
    }
    if len(set(provider_names)) != len(provider_names):
        raise ValidationFailed(gettext("a provider appears twice in the chain"), field="provider_names")
    unknown = [n for n in provider_names if n not in configs]
    if unknown:
        raise ValidationFailed(
            gettext("unknown provider(s): %(join)s") % {"join": ", ".join(unknown)}, field="provider_names"
        )
    with transaction.atomic():
        setting_changes_record(
            organization_id=organization_of(user),
            actor=user,
            setting=f"translation_route.{source}-{target}",
            old={"providers": _route_names(organization_of(user), source, target)},
            new={"providers": list(provider_names)},
        )
        TranslationRoute.objects.filter(
            organization_id=organization_of(user), source_language=source, target_language=target
        ).delete()
        return [
            TranslationRoute.objects.create(
                organization_id=organization_of(user),
                source_language=source,
                target_language=target,
                position=i,
                provider=configs[n],
            )
            for i, n in enumerate(provider_names)
        ]


def glossary_import_csv(*, user: User, content: str | bytes) -> glossary.ImportResult:
    """Import a termbase CSV (admins): every row valid, or nothing imported (the error names the rows)."""
    check_perm(user, Permission.ADMINISTER)
    return glossary.import_rows(organization_of(user), glossary.parse_csv(content))


# --- batch ----------------------------------------------------------------------------------


def translation_job_create(
    *, user: User, ticket_ids: Sequence[int], target_languages: Sequence[str] = ()
) -> TranslationJob:
    """Queue the translation of the inbound messages of the selected tickets the user can see."""
    check_perm(user, Permission.PROCESS)
    ids = sorted({int(i) for i in ticket_ids})
    if not ids:
        raise ValidationFailed(gettext("select at least one ticket"), field="ticket_ids")
    if len(ids) > MAX_JOB_TICKETS:
        raise ValidationFailed(
            gettext("at most %(max_job_tickets)s tickets per batch") % {"max_job_tickets": MAX_JOB_TICKETS},
            field="ticket_ids",
        )
    targets = [working_code(check_language(t, field="target_languages")) for t in target_languages]
    visible = list(
        Ticket.objects.filter(ticket_scope_q(user), pk__in=ids, organization_id=organization_of(user)).values_list(
            "pk", flat=True
        )
    )
    if len(visible) != len(ids):
        raise NotFound(gettext("some tickets were not found"), field="ticket_ids")
    with transaction.atomic():
        job = TranslationJob.objects.create(
            organization_id=organization_of(user),
            created_by=user,
            ticket_ids=ids,
            target_languages=targets,
            total=Message.objects.filter(ticket_id__in=ids, direction=MessageDirection.INBOUND).count(),
        )
        events.publish(
            TranslationJobCreated(job_id=job.pk, organization_id=job.organization_id, actor=Actor.user(user))
        )
    return job


def translation_job_run(job_id: int) -> TranslationJob:
    """Run a queued job (claimed once: queued -> running). Progress counts are updated per message."""
    claimed = TranslationJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now()
    )
    job = TranslationJob.objects.get(pk=job_id)
    if not claimed:
        return job
    messages = Message.objects.filter(ticket_id__in=job.ticket_ids, direction=MessageDirection.INBOUND).order_by("id")
    for message_id in messages.values_list("pk", flat=True):
        state = message_translate(message_id=message_id, targets=job.target_languages or None)
        ok = state.status in (TranslationStatus.DONE, TranslationStatus.SKIPPED)
        TranslationJob.objects.filter(pk=job_id).update(
            done_count=F("done_count") + (1 if ok else 0), failed_count=F("failed_count") + (0 if ok else 1)
        )
        if not ok:
            job.errors = [*job.errors, {"message_id": message_id, "error": state.last_error[:300]}][-50:]
            TranslationJob.objects.filter(pk=job_id).update(errors=job.errors)
    TranslationJob.objects.filter(pk=job_id).update(status=JobStatus.DONE, finished_at=now())
    job.refresh_from_db()
    return job


__all__ = [
    "ReplyDraft",
    "TranslationUnavailable",
    "UnsupportedPair",
    "glossary_import_csv",
    "message_retranslate",
    "message_translate",
    "provider_config_save",
    "provider_config_test",
    "reply_draft_translate",
    "reply_record_translation",
    "reply_send",
    "translation_correct",
    "translation_job_create",
    "translation_job_run",
    "translation_route_set",
    "translations_retry_pending",
]
