"""Generic, idempotent ingestion of customer messages (integrations, e-mail gateways)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.core.errors import NotFound
from aftersales.inbox.services import InboundMessage, inbound_store_probe, message_ingest

from ..attachments import decode_attachments
from ..auth import current_user
from ..rendering import json_response
from ..schemas.common import with_errors
from ..schemas.inbound import InboundMessageIn, InboundResultOut

router = Router(tags=["inbound"])


@router.post("/inbound/messages", response=with_errors({201: InboundResultOut, 200: InboundResultOut}))
def ingest_message(request: HttpRequest, payload: InboundMessageIn) -> HttpResponse:
    """Store a customer message and thread it into a ticket. Safe to send twice: the same
    (store_id, external_id) answers 200 with the first result instead of 201. Needs the
    administer permission (use an admin's API token for integrations). The message is the
    customer's: its audit rows and events name the customer as the actor, not the token's user."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    # The store (its credentials are not needed to store a message: not read, nor decrypted) and
    # message_ingest's replay and buyer probes in one SELECT.
    probe = inbound_store_probe(
        organization_id=user.organization_id,
        store_id=payload.store_id,
        external_id=payload.external_id,
        customer_external_id=payload.customer_external_id,
    )
    if probe is None or probe.store is None:
        raise NotFound(_("store not found"), field="store_id")
    inbound = InboundMessage(
        store=probe.store,
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
    result = message_ingest(inbound=inbound, probe=probe)
    body = {
        "ticket_id": result.ticket.pk,
        "message_id": result.message.pk,
        "created": result.created,
        "ticket_created": result.ticket_created,
    }
    # InboundResultOut's fields, in its order, already of its types (ids, flags): answered as ninja would
    # answer Status(201 or 200, body) after validating it (rendering.json_response).
    return json_response(201 if result.created else 200, body)
