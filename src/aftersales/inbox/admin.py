from django.contrib import admin

from .models import CategoryLabel, Tag


@admin.register(CategoryLabel)
class CategoryLabelAdmin(admin.ModelAdmin):
    list_display = ("category", "label_en", "label_zh_hans", "organization")
    list_filter = ("organization",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "organization")
    search_fields = ("name",)
