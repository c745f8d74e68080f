"""Models of the language engine: providers and their routing, the termbase, the translation
memory, per-message translation state, text read from attachments, reply templates, batch jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.crypto import EncryptedJSONField
from aftersales.core.models import TimeStampedModel

ANY = "*"  # wildcard language in routes and glossary terms


class ProviderKind(models.TextChoices):
    APERTIUM = "apertium", "Apertium (offline)"
    OPENAI = "openai", "OpenAI-compatible (DeepSeek, Qwen, Ollama, vLLM, OpenAI)"
    DEEPL = "deepl", "DeepL"
    GOOGLE = "google", "Google Cloud Translation v3"
    AZURE = "azure", "Azure AI Translator"
    LIBRETRANSLATE = "libretranslate", "LibreTranslate"


class ProviderConfig(TimeStampedModel):
    """A translation (or transcription) service configured by the organization's admin.
    `credentials` (api_key, region, project_id, access_token) are encrypted at rest."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=20, choices=ProviderKind.choices)
    base_url = models.URLField(blank=True)
    credentials = EncryptedJSONField(blank=True, default=dict)
    options = models.JSONField(default=dict, blank=True, help_text="model, location, languages, codes...")
    timeout_seconds = models.FloatField(default=15.0)
    priority = models.PositiveSmallIntegerField(default=100, help_text="Order in the default chain (low first)")
    is_enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="lang_provider_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class TranslationRoute(models.Model):
    """One step of the fallback chain of a language pair ("*" = any language). The most specific
    routes win: (de, zh) before (de, *) / (*, zh) before (*, *)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    source_language = models.CharField(max_length=10, default=ANY)
    target_language = models.CharField(max_length=10, default=ANY)
    position = models.PositiveSmallIntegerField(default=0)
    provider = models.ForeignKey(ProviderConfig, on_delete=models.CASCADE, related_name="routes")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_language", "target_language", "position"], name="lang_route_unique"
            )
        ]


class GlossaryTerm(TimeStampedModel):
    """A termbase entry: a forced translation, or a term that must never be translated."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    source_language = models.CharField(max_length=10, default=ANY)
    target_language = models.CharField(max_length=10, default=ANY)
    term = models.CharField(max_length=200)
    translation = models.CharField(max_length=200, blank=True)
    do_not_translate = models.BooleanField(default=False)
    case_sensitive = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["term", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_language", "target_language", "term"], name="lang_glossary_unique"
            )
        ]


class SegmentOrigin(models.TextChoices):
    CORRECTION = "correction", _("Agent correction")
    IMPORT = "import", _("Imported")
    TEMPLATE = "template", _("Template")


class MemorySegment(TimeStampedModel):
    """An approved translation of one segment. Texts are stored masked (order numbers, e-mails...
    replaced by ⟦n⟧) so a segment matches whatever order number the next customer writes."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    source_language = models.CharField(max_length=10)
    target_language = models.CharField(max_length=10)
    source_text = models.TextField()
    target_text = models.TextField()
    exact_key = models.CharField(max_length=64)
    normalised_key = models.CharField(max_length=64)
    origin = models.CharField(max_length=12, choices=SegmentOrigin.choices, default=SegmentOrigin.CORRECTION)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_language", "target_language", "exact_key"], name="lang_tm_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "source_language", "target_language", "normalised_key"], name="lang_tm_norm"
            )
        ]


class TranslationStatus(models.TextChoices):
    PENDING = "pending", _("Translation pending")
    DONE = "done", _("Translated")
    PARTIAL = "partial", _("Partly translated")
    UNSUPPORTED = "unsupported", _("No provider for this language pair")
    SKIPPED = "skipped", _("Nothing to translate")


class MessageTranslationState(models.Model):
    """Where the translation of one message stands; `pending` rows are retried periodically."""

    message = models.OneToOneField("inbox.Message", on_delete=models.CASCADE, related_name="translation_state")
    status = models.CharField(max_length=12, choices=TranslationStatus.choices, default=TranslationStatus.PENDING)
    detected_language = models.CharField(max_length=10, blank=True)
    detection_source = models.CharField(max_length=10, blank=True)
    detection_confidence = models.FloatField(default=0.0)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="lang_state_pending"),
        ]


class AttachmentText(models.Model):
    """Text read from an attachment: OCR of an image / PDF page, or a voice message's transcript."""

    attachment = models.OneToOneField("inbox.Attachment", on_delete=models.CASCADE, related_name="extracted_text")
    kind = models.CharField(max_length=12)  # ocr | pdf_text | transcript
    engine = models.CharField(max_length=40, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    blocks = models.JSONField(default=list, blank=True, help_text="[{text, box, confidence, page}]")
    translations = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class ReplyTemplate(TimeStampedModel):
    """A reply macro, authored per language (variants). Auto-reply templates answer frequent
    questions of a ticket category."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    source_language = models.CharField(max_length=10, default="en")
    category = models.CharField(max_length=30, blank=True, help_text="Ticket category it answers")
    is_auto_reply = models.BooleanField(default=False)
    # The macro: what sending a reply built from this template also does (services.template_macro_apply).
    set_status = models.CharField(
        max_length=30, blank=True, default="", help_text="Status the reply sets (on delivery); empty: none"
    )
    add_tags = models.JSONField(default=list, blank=True, help_text="Tags added to the ticket")
    assign_to = models.CharField(
        max_length=10,
        blank=True,
        default="",
        help_text='Assignment on send: "self" (the agent), "none" (unassign), "user" (assign_user); empty keeps it',
    )
    assign_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="lang_template_unique_name")]

    def __str__(self) -> str:
        return self.name


class ReplyTemplateVariant(TimeStampedModel):
    template = models.ForeignKey(ReplyTemplate, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=10)
    body = models.TextField()
    is_machine_translated = models.BooleanField(default=False)
    needs_review = models.BooleanField(default=False)
    provider = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "language"], name="lang_variant_unique")]


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class TranslationJob(TimeStampedModel):
    """A batch translation of a selection of tickets, with progress counts."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    ticket_ids = models.JSONField(default=list)
    target_languages = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
