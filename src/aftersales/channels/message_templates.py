"""A store's message templates (WhatsApp: the only messages sendable outside the 24-hour window),
kept as the platform last listed them: store_sync.store_templates_sync (the admin's button and
API) and the hourly tasks.refresh_message_templates call templates_refresh."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from aftersales.catalog.models import Store
from aftersales.core.clock import now

from .context import store_context
from .models import MessageTemplate

logger = logging.getLogger(__name__)


def templates_refresh(store: Store, connector: Any) -> list[MessageTemplate]:
    """Replace the store's stored templates by the platform's current approved ones, in one
    transaction (idempotent; a template no longer approved disappears). ConnectorError passes."""
    found = connector.list_templates(store_context(store, connector=connector))
    synced_at = now()
    kept: list[int] = []
    with transaction.atomic():
        for template in found:
            row, _created = MessageTemplate.objects.update_or_create(
                store=store,
                name=template.name[:512],
                language=template.language[:20],
                defaults={
                    "category": template.category[:40],
                    "body": template.body,
                    "variables": template.variables,
                    "header_format": getattr(template, "header_format", "")[:12],
                    "header_text": getattr(template, "header_text", "")[:200],
                    "header_variables": getattr(template, "header_variables", 0),
                    "buttons": list(getattr(template, "buttons", ())),
                    "status": "APPROVED",
                    "synced_at": synced_at,
                },
            )
            kept.append(row.pk)
        MessageTemplate.objects.filter(store=store).exclude(pk__in=kept).delete()
    logger.info("templates synced", extra={"store_id": store.pk, "count": len(kept)})
    return list(MessageTemplate.objects.filter(store=store))
