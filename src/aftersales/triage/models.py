from __future__ import annotations

from django.db import models

from aftersales.core.crypto import EncryptedJSONField

from .labels import Intent, Sentiment


class TriageResult(models.Model):
    """What triage made of one inbound message (one row per message; classifying again with a new
    model version replaces it)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField("inbox.Message", on_delete=models.CASCADE, related_name="triage")
    intent = models.CharField(max_length=30, choices=Intent.choices)
    confidence = models.FloatField(help_text="Calibrated probability of the intent (1.0 when a rule decided)")
    urgency = models.CharField(max_length=10)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices)
    needs_human = models.BooleanField()
    reasons = models.JSONField(default=list, blank=True, help_text="Why a human must decide (threat, abusive, ...)")
    entities = models.JSONField(default=list, blank=True, help_text="Exact substrings with offsets and type")
    alternatives = models.JSONField(default=list, blank=True, help_text="The next most likely intents")
    language = models.CharField(max_length=10, blank=True)
    order = models.ForeignKey(
        "catalog.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The order an extracted order number names, in the message's organization",
    )
    model_version = models.CharField(max_length=40)
    engine = models.CharField(
        max_length=120, default="local", help_text='Who decided: "local" (the trained models) or "llm:<model>"'
    )
    engine_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the LLM provider's answer was not used (the local result was), or which calibration "
        "mapped its confidence",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "intent"], name="triage_org_intent")]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.intent}"


class ClassificationRequest(models.Model):
    """A batch sent to POST /api/v1/triage/classify: the web process writes it and waits, the worker
    (which holds the models) fills `results`. Pending while `finished_at` is empty; kept one day."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    items = models.JSONField(help_text="[{text, language}]")
    results = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"classification {self.pk}"


class TriageSettings(models.Model):
    """An organization's choices about what triage and routing do on their own (no row: the defaults).
    Edited by an org admin in Settings > Triage and routing, and through the API."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    apply_results = models.BooleanField(
        default=True, help_text="Triage sets a new message's urgency and category and links the order it names"
    )
    auto_route = models.BooleanField(
        default=False, help_text="New tickets are routed to a team and an agent by skill after triage"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"triage settings of {self.organization_id}"


class LLMProviderSettings(models.Model):
    """An organization's optional LLM classification provider (an OpenAI-compatible Chat Completions
    server). Nothing is sent anywhere unless `is_enabled` with a base URL and a model. The API key is
    encrypted at rest (`credentials`, the store credentials' Fernet keys). docs/adr/0023."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    is_enabled = models.BooleanField(default=False)
    base_url = models.CharField(max_length=300, blank=True)
    model = models.CharField(max_length=120, blank=True)
    credentials = EncryptedJSONField(blank=True, default=dict, help_text="{api_key}")
    timeout_seconds = models.FloatField(default=15.0)
    fields = models.JSONField(default=list, blank=True, help_text="What it may decide: intent, urgency, sentiment")
    max_per_minute = models.PositiveIntegerField(default=30)
    max_per_day = models.PositiveIntegerField(default=2000)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # How far its self-reported confidence can be trusted (triage/calibration.py): a monotone map from
    # reported confidence to the accuracy observed on the corpus's held-out split, fitted for one
    # base URL and model (changing either forgets it). Until then a stricter threshold applies.
    calibration = models.JSONField(
        default=dict,
        blank=True,
        help_text="{points: [[reported, observed], ...], model, base_url, examples, answered, accuracy, ...}",
    )
    calibrated_at = models.DateTimeField(null=True, blank=True)
    calibration_started_at = models.DateTimeField(
        null=True, blank=True, help_text="A calibration run is under way (the worker clears it)"
    )
    calibration_error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"LLM provider of {self.organization_id}"


class LLMConnectionTest(models.Model):
    """One "Test connection" of an organization's LLM provider, run by the worker (the web request
    only writes this row; the page and the API poll it). The values tested may be typed and unsaved:
    a typed API key is kept encrypted here only until the worker has sent the request, then wiped.
    Pending while `finished_at` is empty; the organization's admins see the latest ones."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    base_url = models.CharField(max_length=300)
    model = models.CharField(max_length=120)
    timeout_seconds = models.FloatField()
    credentials = EncryptedJSONField(blank=True, default=dict, help_text="{api_key} until the worker ran the test")
    result = models.JSONField(
        default=dict, blank=True, help_text="{ok, latency_ms, model, error_kind, error, intent, confidence}"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="triage_llmtest_org_created")]

    def __str__(self) -> str:
        return f"LLM connection test {self.pk}"
