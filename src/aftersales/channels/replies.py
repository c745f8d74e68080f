"""What the marketplace connectors share when they send a reply: the text checked against the
platform's limit before anything is sent, and `send_reply` (the fallback without a context) built
on the connector's `send_message(ctx, reply)` with the engine's store context."""

from __future__ import annotations

from typing import Any

from .base import ConnectorError, OutboundReply, SentReceipt


def reply_text(reply: OutboundReply, *, limit: int | None, platform: str, code: str) -> str:
    """The reply's text, stripped; empty or longer than `limit` (None: the platform states none): a
    permanent error naming `code`."""
    text = reply.body.strip()
    if not text:
        raise ConnectorError("the reply is empty", permanent=True, code=code)
    if limit is not None and len(text) > limit:
        raise ConnectorError(
            f"{platform} messages are limited to {limit} characters ({len(text)} given)", permanent=True, code=code
        )
    return text


def send_through_store(connector: Any, reply: OutboundReply) -> SentReceipt:
    """`connector.send_message` with the context of the reply's store (lazy: the engine's context
    imports models)."""
    from aftersales.catalog.models import Store

    from .context import store_context

    return connector.send_message(store_context(Store.objects.get(pk=reply.store_id), connector=connector), reply)
