"""What the Meta connectors (WhatsApp, Messenger) share as classes: one Graph session per call
group, the webhook subscription handshake and signature, send_reply through the store's context."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aftersales.channels.base import OutboundReply, SentReceipt, StoreContext
from aftersales.channels.replies import send_through_store

from .graph import GRAPH_HOST, GraphClient, hub_handshake, verify_hub_signature


class MetaConnector:
    default_base_url = GRAPH_HOST

    def __init__(self, **client_options: Any) -> None:
        self.client_options = client_options

    @contextmanager
    def client(self, ctx: StoreContext) -> Iterator[GraphClient]:
        client = GraphClient(ctx, **self.client_options)
        try:
            yield client
        finally:
            client.close()

    def webhook_handshake(self, ctx: StoreContext, params: Mapping[str, str]) -> str | None:
        return hub_handshake(params, verify_token=str(ctx.credentials.get("verify_token") or ""))

    @staticmethod
    def verify_signature(ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> None:
        verify_hub_signature(app_secret=str(ctx.credentials.get("app_secret") or ""), headers=headers, body=body)

    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        return send_through_store(self, reply)
