"""Generic, idempotent ingestion of customer messages (integrations, e-mail gateways)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.catalog.selectors import store_of_organization
from aftersales.core.errors import NotFound
from aftersales.inbox.services import InboundMessage, message_ingest

from ..attachments import decode_attachments
from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.inbound import InboundMessageIn, InboundResultOut

router = Router(tags=["inbound"])


@router.post("/inbound/messages", response=with_errors({201: InboundResultOut, 200: InboundResultOut}))
def ingest_message(request: HttpRequest, payload: InboundMessageIn) -> Status[Any]:
    """Store a customer message and thread it into a ticket. Safe to send twice: the same
    (store_id, external_id) answers 200 with the first result instead of 201. Needs the
    administer permission (use an admin's API token for integrations). The message is the
    customer's: its audit rows and events name the customer as the actor, not the token's user."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    # the credentials are not needed to store a message: not read (nor decrypted) per request
    store = store_of_organization(user.organization_id, payload.store_id)
    if store is None:
        raise NotFound(_("store not found"), field="store_id")
    inbound = InboundMessage(
        store=store,
        external_id=payload.external_id,
        body=payload.body,
        body_html=payload.body_html,
        subject=payload.subject,
        customer_external_id=payload.customer_external_id,
        customer_name=payload.customer_name,
        customer_email=payload.customer_email,
        customer_country=payload.customer_country,
        customer_language=payload.customer_language,
        order_external_id=payload.order_external_id,
        conversation_id=payload.conversation_id,
        sent_at=payload.sent_at,
        category=payload.category.value if payload.category else "",
        attachments=decode_attachments(payload.attachments),
        via="api",
    )
    result = message_ingest(inbound=inbound)
    body = {
        "ticket_id": result.ticket.pk,
        "message_id": result.message.pk,
        "created": result.created,
        "ticket_created": result.ticket_created,
    }
    return Status(201 if result.created else 200, body)
