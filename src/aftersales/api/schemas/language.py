"""Request and response bodies of the language engine: message translations, reply drafts,
templates, batch jobs, providers and routes, the glossary and the translation memory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from aftersales.inbox.workflow import TicketCategory, TicketStatus
from aftersales.language.models import ProviderKind

from .common import Id, InputSchema

# Texts an agent writes or corrects (the reply limit of the inbox).
MAX_TEXT = 20_000
LANGUAGE_CODE = Field(..., min_length=1, max_length=20, examples=["es"])


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


# --- message translations -------------------------------------------------------------------


class TranslationOut(Schema):
    """One translation of a message, keyed by language in `translations`."""

    text: str = ""
    provider: str = Field("", description="apertium, deepl, memory, agent (a correction), author (the original)")
    quality: str = Field("", description="draft, machine, memory or original")
    glossary_applied: list[str] = []
    tm_applied: bool = False
    flags: list[str] = Field([], description="placeholders_lost, pivot:en, corrected")
    source_language: str = ""
    at: str | None = None


class AttachmentTextOut(Schema):
    """Text read from an attachment: OCR of an image or PDF, or a voice message's transcript."""

    attachment_id: int
    filename: str
    kind: str = Field(..., description="ocr, pdf_text or transcript")
    engine: str
    text: str
    language: str
    blocks: list[dict[str, Any]] = Field(..., description="[{text, box, confidence, page}]")
    translations: dict[str, Any]
    error: str

    @staticmethod
    def resolve_filename(obj: Any) -> str:
        return str(obj.attachment.filename)


class MessageTranslationOut(Schema):
    message_id: int
    language: str = Field(..., description="Detected language of the message (empty until detected)")
    detection_source: str = Field(..., description="detected, customer, store, none; empty if not processed yet")
    detection_confidence: float
    status: str = Field(..., description="pending, done, partial, unsupported, skipped; empty if not processed yet")
    pending: bool = Field(..., description="A provider is down: the translation is retried automatically")
    error: str
    translations: dict[str, TranslationOut]
    attachments: list[AttachmentTextOut]


class RetranslateIn(InputSchema):
    target_language: str | None = Field(
        None, min_length=1, max_length=20, description="Default: every working language of the organization"
    )


class CorrectionIn(InputSchema):
    target_language: str = LANGUAGE_CODE
    text: str = Field(..., max_length=MAX_TEXT, description="The corrected translation; remembered for next time")

    text_not_blank = field_validator("text")(_not_blank)


# --- outbound -------------------------------------------------------------------------------


class ReplyDraftIn(InputSchema):
    text: str = Field(..., max_length=MAX_TEXT, description="What you wrote, in your language")
    source_language: str | None = Field(None, min_length=1, max_length=20, description="Default: your language")
    target_language: str | None = Field(
        None, min_length=1, max_length=20, description="Default: the customer's language"
    )

    text_not_blank = field_validator("text")(_not_blank)


class ReplyDraftOut(Schema):
    """A translated draft: nothing is stored or sent. Send `text` as the reply's `body`, with
    `original_text` and `original_language`."""

    original_text: str
    original_language: str
    text: str = Field(..., description="The draft in the customer's language")
    language: str = Field(..., description="The customer's language")
    back_translation: str = Field(..., description="`text` translated back into your language, to check it")
    provider: str
    quality: str
    glossary_applied: list[str]
    tm_applied: bool
    flags: list[str]
    variant: str = Field(
        ..., description='The regional variant `text` is written in ("pt-BR" for a buyer in Brazil); "" when none'
    )


# --- templates ------------------------------------------------------------------------------


class TemplateVariantOut(Schema):
    language: str
    body: str
    is_machine_translated: bool
    needs_review: bool = Field(..., description="Machine-translated and not yet approved")
    provider: str
    updated_at: datetime


class TemplateMacroOut(Schema):
    """What sending a reply built from the template also does."""

    set_status: str = Field(..., description="The reply's status when you choose none (applied on delivery); '': none")
    add_tags: list[str] = Field(..., description="Tags added to the ticket")
    assign_to: str = Field(..., description="self (you), none (unassign), user (assign_user_id), or '': keep")
    assign_user_id: int | None


def macro_out(obj: Any) -> dict[str, Any]:
    """A template's (or a rendered template's) macro as TemplateMacroOut."""
    from aftersales.language.templates import Macro

    macro = obj.macro if hasattr(obj, "macro") else Macro.of(obj)
    return {
        "set_status": macro.set_status,
        "add_tags": list(macro.add_tags),
        "assign_to": macro.assign_to,
        "assign_user_id": macro.assign_user_id,
    }


class TemplateMacroIn(InputSchema):
    """Replaces the template's macro: the fields left out are cleared."""

    set_status: TicketStatus | None = Field(None, description="Status the reply sets when the agent chooses none")
    add_tags: list[Annotated[str, Field(max_length=200)]] = Field([], max_length=10, description="Tags to add")
    assign_to: Literal["self", "none", "user"] | None = Field(
        None, description="self: the agent sending; none: unassign; user: assign_user_id; null: keep"
    )
    assign_user_id: Id | None = Field(None, description="With assign_to=user: a user of your organization")

    def as_macro(self) -> Any:
        from aftersales.language.templates import Macro

        return Macro(
            set_status=self.set_status.value if self.set_status else "",
            add_tags=tuple(self.add_tags),
            assign_to=self.assign_to or "",
            assign_user_id=self.assign_user_id,
        )


class ReplyTemplateOut(Schema):
    id: int
    name: str
    source_language: str
    category: str
    is_auto_reply: bool
    macro: TemplateMacroOut
    variants: list[TemplateVariantOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_variants(obj: Any) -> list[Any]:
        return sorted(obj.variants.all(), key=lambda v: v.language)

    @staticmethod
    def resolve_macro(obj: Any) -> dict[str, Any]:
        return macro_out(obj)


class ReplyTemplateIn(InputSchema):
    """Create a template or update the one with this name. Bodies use the variables customer.name,
    customer.first_name, order.number, order.platform, order.total, tracking.number,
    tracking.carrier, tracking.link, rma_number, return_address, refund_amount, store_name,
    agent_name."""

    name: str = Field(..., max_length=120)
    source_language: str = LANGUAGE_CODE
    bodies: dict[str, str] = Field(
        ..., min_length=1, max_length=20, description="{language: body}, e.g. {'en': 'Hello {{ customer.first_name }}'}"
    )
    category: TicketCategory | None = Field(None, description="The ticket category it answers (auto-replies)")
    is_auto_reply: bool = False
    macro: TemplateMacroIn | None = Field(None, description="What a reply from it also does; null keeps it")


class ReplyTemplatePatchIn(InputSchema):
    """The fields sent are changed. In `bodies`, a text replaces that language's variant (as
    authored, reviewed) and an empty text removes it; the source language keeps a variant."""

    name: str | None = Field(None, max_length=120)
    source_language: str | None = Field(None, min_length=1, max_length=20, examples=["en"])
    bodies: dict[str, str] | None = Field(
        None, max_length=20, description="{language: body}; an empty body removes that language's variant"
    )
    category: TicketCategory | None = Field(None, description="The ticket category it answers (auto-replies)")
    is_auto_reply: bool | None = None
    macro: TemplateMacroIn | None = Field(None, description="Replaces what a reply from it also does; null keeps it")


class TemplatePreviewIn(InputSchema):
    """A template text to fill in with sample data (a made-up customer, order and tracking)."""

    body: str = Field(..., max_length=20_000)
    language: str | None = Field(None, min_length=1, max_length=20, description="The variant's language (checked)")


class TemplatePreviewOut(Schema):
    text: str = Field(..., description="The template filled in with the sample data")
    language: str


class RenderIn(InputSchema):
    ticket_id: Id
    language: str | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Default: the customer's language. A missing variant is "
        "machine-translated, saved and flagged for review.",
    )


class RenderedOut(Schema):
    text: str
    language: str
    needs_review: bool
    machine_translated: bool = Field(
        ..., description="No variant in this language was written: this is a machine translation of the source"
    )
    provider: str
    macro: TemplateMacroOut = Field(
        ..., description="Applied when you send the reply with this template's id as `template_id`"
    )

    @staticmethod
    def resolve_macro(obj: Any) -> dict[str, Any]:
        return macro_out(obj)


class VariantApproveIn(InputSchema):
    body: str | None = Field(None, max_length=10_000, description="The corrected text (default: keep it)")


# --- batch ----------------------------------------------------------------------------------


class TranslationJobIn(InputSchema):
    ticket_ids: list[Id] = Field(..., min_length=1, max_length=500)
    target_languages: list[str] = Field([], max_length=20, description="Default: the working languages")


class JobErrorOut(Schema):
    message_id: int
    error: str


class TranslationJobOut(Schema):
    id: int
    status: str = Field(..., description="queued, running or done")
    total: int
    done: int
    failed: int
    percent: int
    errors: list[JobErrorOut]

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj.job_id)


# --- configuration --------------------------------------------------------------------------


class PairsOut(Schema):
    pairs: list[str] = Field(..., description="source-target, directly or through English", examples=[["en-es"]])


class ProviderConfigOut(Schema):
    """A configured provider. Credentials are never returned: `credential_names` says which are set."""

    name: str
    kind: str
    base_url: str
    options: dict[str, Any]
    timeout_seconds: float
    priority: int
    is_enabled: bool
    credential_names: list[str]
    updated_at: datetime

    @staticmethod
    def resolve_credential_names(obj: Any) -> list[str]:
        return sorted((obj.credentials or {}).keys())


class ProviderStatusOut(Schema):
    name: str
    kind: str
    enabled: bool
    ok: bool = Field(..., description="Answered the health check (false unless `check=true`)")
    detail: str
    latency_ms: float | None
    pairs: int = Field(..., description="Number of language pairs it translates")
    config: ProviderConfigOut | None = Field(..., description="null for the built-in offline engine")


class ProviderIn(InputSchema):
    """The whole configuration of a provider (created if new). `credentials` are write-only and
    stored encrypted: omit them (or send null) to keep the stored ones, send {} to remove them."""

    kind: ProviderKind
    base_url: str = Field("", max_length=500)
    credentials: dict[str, str] | None = Field(
        None,
        max_length=10,
        description="api_key, region, project_id, access_token",
        json_schema_extra={"writeOnly": True},
    )
    options: dict[str, Any] = Field({}, description="model, location, languages, codes...")
    timeout_seconds: float = Field(15.0, ge=0.5, le=120)
    priority: int = Field(100, ge=0, le=32767, description="Order in the default chain (low first)")
    is_enabled: bool = True

    @field_validator("credentials")
    @classmethod
    def _credential_sizes(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, secret in (value or {}).items():
            if not key or len(key) > 40 or len(secret) > 4000:
                raise ValueError("credential names have 1 to 40 characters, values at most 4000")
        return value


class RouteIn(InputSchema):
    source_language: str = Field(..., min_length=1, max_length=20, description="A language code or *")
    target_language: str = Field(..., min_length=1, max_length=20, description="A language code or *")
    provider_names: list[str] = Field(
        ..., max_length=10, description="The fallback chain, in order; [] removes the route (default chain)"
    )


class RouteOut(Schema):
    source_language: str
    target_language: str
    position: int
    provider: str

    @staticmethod
    def resolve_provider(obj: Any) -> str:
        return str(obj.provider.name)


class GlossaryTermOut(Schema):
    id: int
    source_language: str
    target_language: str
    term: str
    translation: str
    do_not_translate: bool
    case_sensitive: bool
    note: str
    updated_at: datetime


class GlossaryPageOut(Schema):
    items: list[GlossaryTermOut]
    total: int


class ImportOut(Schema):
    created: int
    updated: int


class MemorySegmentOut(Schema):
    """An approved translation. Order numbers, e-mails, amounts... are stored as ⟦n⟧ placeholders."""

    id: int
    source_language: str
    target_language: str
    source_text: str
    target_text: str
    origin: str
    use_count: int
    created_by_id: int | None
    updated_at: datetime


class MemoryPageOut(Schema):
    items: list[MemorySegmentOut]
    total: int


class PageQuery(Schema):
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)
