from typing import Any

from django.contrib import admin

from .models import Product, Store
from .services import product_save


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "site", "organization", "default_language", "timezone", "is_active")
    list_filter = ("platform", "organization", "is_active")
    search_fields = ("name", "site", "external_id")
    exclude = ("credentials",)  # secrets are never shown; set them through the API or the CLI


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "title", "category", "price_amount", "price_currency", "value_tier", "warranty_months")
    list_filter = ("category", "value_tier", "organization")
    search_fields = ("sku", "title")
    readonly_fields = ("value_tier",)

    def save_model(self, request: Any, obj: Product, form: Any, change: bool) -> None:
        product_save(product=obj)
