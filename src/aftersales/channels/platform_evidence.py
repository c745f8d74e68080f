"""Send an RMA's evidence picture to the marketplace's dispute (issue 12: AliExpress,
aliexpress.issue.image.upload) from the RMA page or the API: one service for both. Offered for a
photo of an RMA opened from a marketplace return request (its issue) whose store's connector has
`upload_issue_evidence`. The picture is the one already uploaded to the RMA (returns.rma_actions:
type sniffed, size-limited, stored under a name of our own); it is sent through the write-back
ledger (kind upload_evidence, key `evidence:<evidence id>:upload`): once, a replay answers the
recorded outcome, a refusal is shown with the platform's words and not resent, a transient error
leaves the row pending (the next click sends it)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm
from aftersales.core.actors import Actor
from aftersales.core.errors import ValidationFailed

from .base import AttachmentRecord, ConnectorError
from .models import WriteBack, WriteBackKind
from .registry import get_connector

PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})  # what aliexpress.issue.image.upload takes


def evidence_key(evidence_id: int) -> str:
    return f"evidence:{evidence_id}:upload"


def _connector_of(rma: Any) -> Any:
    """The connector of the RMA's marketplace return request's store, when it takes evidence."""
    request = getattr(rma, "return_request", None)
    if request is None or not request.external_id:
        return None
    try:
        connector = get_connector(request.store.platform)
    except ConnectorError:
        return None
    return connector if callable(getattr(connector, "upload_issue_evidence", None)) else None


def can_send_evidence(rma: Any) -> bool:
    """Whether the RMA's pictures can be sent to its marketplace's dispute."""
    return rma is not None and rma.return_request_id is not None and _connector_of(rma) is not None


def evidence_sent(rma: Any) -> dict[int, WriteBack]:
    """The ledger rows of the RMA's pictures already sent (asked), by evidence id."""
    if not can_send_evidence(rma):
        return {}
    ids = [e.pk for e in rma.evidence.all()]
    rows = WriteBack.objects.filter(
        store_id=rma.return_request.store_id, idempotency_key__in=[evidence_key(i) for i in ids]
    )
    return {int(row.idempotency_key.split(":")[1]): row for row in rows}


def rma_evidence_to_platform(*, user: Any, rma_id: Any, evidence_id: Any) -> WriteBack:
    """Send one picture of the RMA to its marketplace dispute (PROCESS; 404 for an RMA or evidence
    the user does not see; 422 naming `rma_id` when the RMA has no marketplace dispute that takes
    evidence, `evidence_id` when the evidence is not a JPEG, PNG or GIF picture). Returns the ledger
    row (succeeded, failed with the platform's words, or pending after a transient error)."""
    from aftersales.catalog.selectors import buyer_identity
    from aftersales.returns.rma_selectors import rma_evidence_file, rma_get

    from .writeback import writeback_perform

    stored, name, content_type, _inline = rma_evidence_file(user, rma_id, evidence_id)
    check_perm(user, Permission.PROCESS)
    rma = rma_get(user, rma_id)
    connector = _connector_of(rma)
    if connector is None:
        raise ValidationFailed(
            _("This RMA has no marketplace dispute that takes evidence: send the picture on the marketplace."),
            field="rma_id",
        )
    if content_type not in PICTURE_TYPES:
        raise ValidationFailed(
            _("evidence_id: the marketplace takes JPEG, PNG or GIF pictures, not %(type)s") % {"type": content_type},
            field="evidence_id",
        )
    request = rma.return_request
    assert request is not None  # (_connector_of found its store)
    with stored.open() as handle:
        content = handle.read()
    picture = AttachmentRecord(filename=name, content=content, content_type=content_type)
    issue_id, buyer = request.external_id, buyer_identity(request.customer_id, request.store_id)
    key = evidence_key(evidence_id)
    try:
        return writeback_perform(
            store=request.store,
            kind=WriteBackKind.UPLOAD_EVIDENCE,
            key=key,
            request={"rma_id": rma.pk, "evidence_id": evidence_id, "issue_id": issue_id, "file": name},
            actor=Actor.user(user),
            call=lambda ctx: connector.upload_issue_evidence(
                ctx, issue_id=issue_id, buyer_login_id=buyer, image=picture
            ),
        )
    except ConnectorError:  # transient: the row is pending again with the error's words
        return WriteBack.objects.get(store=request.store, idempotency_key=key)
