from django.contrib import admin

from .models import (
    GlossaryTerm,
    MemorySegment,
    MessageTranslationState,
    ProviderConfig,
    ReplyTemplate,
    ReplyTemplateVariant,
    TranslationJob,
    TranslationRoute,
)


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "organization", "priority", "is_enabled", "timeout_seconds")
    list_filter = ("kind", "is_enabled")
    # Credentials are encrypted at rest and never shown: set them through services.provider_config_save.
    exclude = ("credentials",)


@admin.register(TranslationRoute)
class TranslationRouteAdmin(admin.ModelAdmin):
    list_display = ("organization", "source_language", "target_language", "position", "provider")


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(admin.ModelAdmin):
    list_display = ("term", "translation", "source_language", "target_language", "do_not_translate", "organization")
    search_fields = ("term", "translation")


@admin.register(MemorySegment)
class MemorySegmentAdmin(admin.ModelAdmin):
    list_display = ("source_text", "target_text", "source_language", "target_language", "origin", "use_count")
    search_fields = ("source_text", "target_text")


class VariantInline(admin.TabularInline):
    model = ReplyTemplateVariant
    extra = 0


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "source_language", "category", "is_auto_reply")
    inlines = [VariantInline]


@admin.register(MessageTranslationState)
class MessageTranslationStateAdmin(admin.ModelAdmin):
    list_display = ("message", "status", "detected_language", "attempts", "next_attempt_at")
    list_filter = ("status",)
    raw_id_fields = ("message",)


@admin.register(TranslationJob)
class TranslationJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "organization", "status", "total", "done_count", "failed_count", "created_at")
