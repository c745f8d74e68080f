from django.contrib import admin

from .models import ShipmentTracking, TrackingAccount, TrackingPush


@admin.register(TrackingAccount)
class TrackingAccountAdmin(admin.ModelAdmin):
    list_display = ("organization", "provider", "is_active", "last_checked_at", "last_check_ok")
    exclude = ("credentials",)  # write-only: set in the organization's settings


@admin.register(ShipmentTracking)
class ShipmentTrackingAdmin(admin.ModelAdmin):
    list_display = ("shipment", "account", "registered_at", "last_event_at", "last_status", "stopped_at")
    raw_id_fields = ("shipment",)


@admin.register(TrackingPush)
class TrackingPushAdmin(admin.ModelAdmin):
    list_display = ("account", "received_at", "event", "number", "processed_at", "error")
