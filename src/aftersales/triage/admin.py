from django.contrib import admin

from .models import TriageResult


@admin.register(TriageResult)
class TriageResultAdmin(admin.ModelAdmin):
    list_display = ("message", "intent", "confidence", "urgency", "needs_human", "model_version", "created_at")
    list_filter = ("intent", "urgency", "needs_human")
    raw_id_fields = ("message", "order")
