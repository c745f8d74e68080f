"""Reads of the language engine for the UI and the API (frozen dataclasses or QuerySets)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, check_ticket, is_admin, organization_of, ticket_scope_q
from aftersales.core.errors import NotFound
from aftersales.inbox.models import Message, Ticket

from . import glossary
from .models import (
    ANY,
    AttachmentText,
    GlossaryTerm,
    MemorySegment,
    MessageTranslationState,
    ProviderConfig,
    ReplyTemplate,
    TranslationJob,
    TranslationRoute,
    TranslationStatus,
)
from .providers.registry import build, builtin
from .routing import available_pairs


@dataclass(frozen=True)
class MessageTranslation:
    message_id: int
    language: str  # detected language of the body
    detection_source: str  # detected | customer | store | none | "" (not processed yet)
    detection_confidence: float
    status: str  # TranslationStatus, or "" when not processed yet
    pending: bool  # "translation pending": a provider is down, retried automatically
    error: str
    translations: dict  # Message.translations: {"zh-hans": {"text", "provider", "quality", ...}}


def message_translation(*, user: User, message: Message) -> MessageTranslation:
    check_ticket(user, message.ticket, Permission.VIEW)
    state = MessageTranslationState.objects.filter(message=message).first()
    return MessageTranslation(
        message_id=message.pk,
        language=message.language,
        detection_source=state.detection_source if state else "",
        detection_confidence=state.detection_confidence if state else 0.0,
        status=state.status if state else "",
        pending=bool(state and state.status == TranslationStatus.PENDING),
        error=state.last_error if state else "",
        translations=dict(message.translations or {}),
    )


def translation_states(message_ids: list[int]) -> QuerySet[MessageTranslationState]:
    """For a ticket's timeline: one query for every message's state (badge "translation pending")."""
    return MessageTranslationState.objects.filter(message_id__in=message_ids)


def attachment_texts(*, user: User, message: Message) -> QuerySet[AttachmentText]:
    """OCR text (with boxes) and transcripts of a message's attachments, with their translations."""
    check_ticket(user, message.ticket, Permission.VIEW)
    return AttachmentText.objects.filter(attachment__message=message).select_related("attachment").order_by("id")


def supported_pairs(*, organization_id: int) -> list[str]:
    """Pairs the organization can translate ("de-zh"), directly or through English."""
    return available_pairs(organization_id)


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    kind: str
    enabled: bool
    ok: bool
    detail: str
    latency_ms: float | None
    pairs: int


def provider_statuses(*, user: User, check: bool = False) -> list[ProviderStatus]:
    """The organization's providers (and the built-in Apertium); `check=True` calls each one."""
    check_perm(user, Permission.ADMINISTER)
    result = []
    configs = list(ProviderConfig.objects.filter(organization_id=organization_of(user)).order_by("priority", "id"))
    entries = [(c.name, c.kind, c.is_enabled, build(c)) for c in configs]
    if not any(c.kind == "apertium" for c in configs):
        entries.append(("apertium", "apertium", True, builtin()))
    for name, kind, enabled, provider in entries:
        health = provider.health() if check and enabled else None
        result.append(
            ProviderStatus(
                name,
                kind,
                enabled,
                bool(health and health.ok),
                health.detail if health else "",
                health.latency_ms if health else None,
                len(provider.supported_pairs()),
            )
        )
    return result


@dataclass(frozen=True)
class ProviderSetting:
    """A configured provider as the settings page edits it. The credentials stay write-only:
    only the names of those that are set ("api_key") are shown."""

    name: str
    kind: str
    base_url: str
    model: str
    languages: tuple[str, ...]
    timeout_seconds: float
    priority: int
    enabled: bool
    credential_names: tuple[str, ...]


def provider_settings(*, user: User) -> list[ProviderSetting]:
    check_perm(user, Permission.ADMINISTER)
    configs = ProviderConfig.objects.filter(organization_id=organization_of(user)).order_by("priority", "id")
    return [
        ProviderSetting(
            name=c.name,
            kind=c.kind,
            base_url=c.base_url,
            model=str((c.options or {}).get("model") or ""),
            languages=tuple((c.options or {}).get("languages") or ()),
            timeout_seconds=c.timeout_seconds,
            priority=c.priority,
            enabled=c.is_enabled,
            credential_names=tuple(sorted((c.credentials or {}).keys())),
        )
        for c in configs
    ]


@dataclass(frozen=True)
class RouteChain:
    source_language: str  # a code or "*"
    target_language: str
    providers: tuple[str, ...]  # the fallback chain, in order


def translation_routes(*, user: User) -> list[RouteChain]:
    """The organization's routes, one chain per pair, the most specific pairs first."""
    check_perm(user, Permission.ADMINISTER)
    chains: dict[tuple[str, str], list[str]] = {}
    for route in (
        TranslationRoute.objects.filter(organization_id=organization_of(user))
        .select_related("provider")
        .order_by("source_language", "target_language", "position", "id")
    ):
        chains.setdefault((route.source_language, route.target_language), []).append(route.provider.name)
    return sorted(
        (RouteChain(s, t, tuple(names)) for (s, t), names in chains.items()),
        key=lambda r: ((r.source_language == ANY) + (r.target_language == ANY), r.source_language, r.target_language),
    )


def glossary_terms(*, organization_id: int) -> QuerySet[GlossaryTerm]:
    return GlossaryTerm.objects.filter(organization_id=organization_id).order_by("term", "id")


def glossary_export(*, user: User) -> str:
    check_perm(user, Permission.ADMINISTER)
    return glossary.export_csv(organization_of(user))


def memory_segments(*, organization_id: int) -> QuerySet[MemorySegment]:
    return MemorySegment.objects.filter(organization_id=organization_id).order_by("-updated_at", "-id")


def reply_templates(*, organization_id: int) -> QuerySet[ReplyTemplate]:
    return ReplyTemplate.objects.filter(organization_id=organization_id).prefetch_related("variants").order_by("name")


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    status: str
    total: int
    done: int
    failed: int
    percent: int
    errors: list


def translation_job_get(*, user: User, job_id: int) -> TranslationJob:
    """A batch translation job the user may see, else NotFound naming job_id. A job is shown to
    those who may see every ticket in it (as creating it required): admins see every job of their
    organization; an agent whose teams do not cover one of its tickets gets NotFound, as for
    another organization's job. The API and the web UI both read jobs through here."""
    check_perm(user, Permission.VIEW)
    job = TranslationJob.objects.filter(pk=job_id, organization_id=organization_of(user)).first()
    if job is None:
        raise NotFound(_("translation job not found"), field="job_id")
    if not is_admin(user) and job.ticket_ids:
        visible = Ticket.objects.filter(ticket_scope_q(user)).values("pk")
        hidden = Ticket.objects.filter(pk__in=job.ticket_ids).exclude(pk__in=visible)
        if hidden.exists():
            raise NotFound(_("translation job not found"), field="job_id")
    return job


def translation_job_progress(*, user: User, job_id: int) -> JobProgress:
    """Progress of a job the user may see (translation_job_get)."""
    job = translation_job_get(user=user, job_id=job_id)
    processed = job.done_count + job.failed_count
    percent = 100 if job.total == 0 and job.status == "done" else int(100 * processed / job.total) if job.total else 0
    return JobProgress(job.pk, job.status, job.total, job.done_count, job.failed_count, percent, list(job.errors))
