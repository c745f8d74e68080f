"""Showing customers' HTML on the ticket page without loading anything from elsewhere."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from aftersales.inbox.attachment_types import serves_inline
from aftersales.inbox.message_html import html_without_images, remote_image_count

register = template.Library()


@register.filter
def message_html(html: str) -> SafeString:
    """A message's stored (sanitised) HTML with every image replaced by a placeholder."""
    return mark_safe(html_without_images(html or "", placeholder=gettext("image not loaded")))  # noqa: S308 (sanitised by nh3, cleaned again)


@register.filter
def remote_images(html: str) -> int:
    return remote_image_count(html or "")


@register.filter
def inline_attachment(content_type: str) -> bool:
    """Shown in the browser (raster images, PDF) rather than downloaded."""
    return serves_inline(content_type or "")
