"""{% attention_total %}: the count of what needs a human (paused stores, quarantined records,
failed or unknown write-backs) for the settings nav's badge; 0 for anyone who may not administer."""

from __future__ import annotations

from django import template

from aftersales.channels.selectors import attention_count

register = template.Library()


@register.simple_tag(takes_context=True)
def attention_total(context: template.Context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return 0
    if not hasattr(request, "_attention_total"):
        request._attention_total = attention_count(user)
    return int(request._attention_total)
