"""WhatsApp Cloud API webhook pushes: splitting a verified push into one item per message / status.

A push is {"object": "whatsapp_business_account", "entry": [{"id": <WABA id>, "changes": [{"field":
"messages", "value": {"messaging_product", "metadata": {"phone_number_id", ...}, "contacts",
"messages" | "statuses"}}]}]}. Items for another phone number of the account raise MappingError
(answered 400, nothing stored): the push was sent to the wrong store. Other fields (template status
updates, account alerts) are kept as ignored items."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from aftersales.channels.base import MappingError


def parse_push(body: bytes) -> Mapping[str, Any]:
    try:
        push = json.loads(body)
    except ValueError as exc:
        raise MappingError("the push is not JSON", field="body") from exc
    if not isinstance(push, Mapping):
        raise MappingError("the push is not an object", field="body")
    if push.get("object") != "whatsapp_business_account":
        raise MappingError(f"object is not whatsapp_business_account: {push.get('object')!r}"[:200], field="object")
    if not isinstance(push.get("entry"), list):
        raise MappingError("the push has no entry list", field="entry")
    return push


def push_items(push: Mapping[str, Any], *, phone_number_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(event id, item) for each message and status of the push, in order."""
    items: list[tuple[str, dict[str, Any]]] = []
    for entry in push["entry"]:
        changes = entry.get("changes") if isinstance(entry, Mapping) else None
        if not isinstance(changes, list):
            raise MappingError("an entry without its changes", field="entry.changes")
        for change in changes:
            value = change.get("value") if isinstance(change, Mapping) else None
            if not isinstance(value, Mapping):
                raise MappingError("a change without its value", field="changes.value")
            if change.get("field") != "messages":
                digest = hashlib.sha256(json.dumps(change, sort_keys=True).encode()).hexdigest()[:24]
                items.append((f"ignored:{digest}", {"kind": "ignored", "reason": f"field {change.get('field')}"}))
                continue
            found = value.get("metadata")
            metadata: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            pushed_phone = str(metadata.get("phone_number_id") or "")
            if pushed_phone != phone_number_id:
                raise MappingError(
                    f"the push is for phone number id {pushed_phone or '(none)'}, not this store's", field="metadata"
                )
            contacts = [c for c in value.get("contacts") or [] if isinstance(c, Mapping)]
            for message in value.get("messages") or []:
                head = message if isinstance(message, Mapping) else {}
                contact = next(
                    (c for c in contacts if c.get("wa_id") == head.get("from")), contacts[0] if contacts else {}
                )
                event_id = f"msg:{head.get('id') or hashlib.sha256(repr(message).encode()).hexdigest()[:24]}"
                items.append(
                    (
                        event_id,
                        {
                            "kind": "message",
                            "phone_number_id": pushed_phone,
                            "contact": dict(contact),
                            "message": message,
                        },
                    )
                )
            for status in value.get("statuses") or []:
                head = status if isinstance(status, Mapping) else {}
                event_id = f"status:{head.get('id', '')}:{head.get('status', '')}:{head.get('timestamp', '')}"
                items.append((event_id, {"kind": "status", "phone_number_id": pushed_phone, "status": status}))
    return items
