from django.contrib import admin

from .models import ReturnRequest, ReturnRequestEvent, ReturnRequestLine


class ReturnRequestLineInline(admin.TabularInline):
    model = ReturnRequestLine
    extra = 0
    raw_id_fields = ("order_line",)


class ReturnRequestEventInline(admin.TabularInline):
    model = ReturnRequestEvent
    extra = 0
    readonly_fields = ("type", "payload", "actor_kind", "actor_ref", "at")


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ("external_id", "kind", "platform_status", "store", "respond_by", "created_on_platform")
    list_filter = ("kind",)
    search_fields = ("external_id", "order_external_id")
    raw_id_fields = ("organization", "store", "order", "customer", "ticket")
    inlines = (ReturnRequestLineInline, ReturnRequestEventInline)
