"""Reads of one RMA for its page and GET /rmas/{id}: lines, evidence, the timeline (who did what and
when), refunds, the marketplace sync state, and the actions the user may take now. Scoped like every
RMA read (returns.access): another organization's or an unseen RMA is NotFound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import has_perm, organization_of
from aftersales.channels.base import Capability
from aftersales.channels.status import capabilities_of
from aftersales.core.errors import NotFound

from .models import Rma, RmaStatus
from .workflow import RMA_TRANSITIONS


@dataclass(frozen=True)
class RmaLineView:
    id: int
    order_line_id: int
    sku: str
    quantity: int
    unit_price: str
    currency: str
    reason: str
    serial_number: str
    imei: str
    inspection_result: str
    qc_checklist: list[dict[str, Any]]
    disposition: str


@dataclass(frozen=True)
class EvidenceView:
    id: int
    kind: str
    value: str
    line_id: int | None
    attachment_id: int | None
    has_file: bool
    actor_kind: str
    actor_ref: str
    at: datetime


@dataclass(frozen=True)
class RmaEventView:
    id: int
    type: str
    payload: dict[str, Any]
    actor_kind: str
    actor_ref: str
    actor_name: str
    at: datetime


@dataclass(frozen=True)
class RefundView:
    id: int
    kind: str
    status: str
    amount: str
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class WarehouseView:
    id: int
    code: str
    name: str
    address: str


@dataclass(frozen=True)
class RmaDetail:
    id: int
    number: str
    status: str
    status_label: str
    resolution: str
    outcome: str
    inspection_result: str
    reason: str
    buyer_comment: str
    buyer_language: str
    delivery_country: str
    store_id: int
    order_id: int
    order_number: str
    customer_id: int | None
    ticket_id: int | None
    return_request_id: int | None
    requested_at: datetime
    decision: dict[str, Any]
    policy_version: int | None
    discrepancies: list[dict[str, Any]]
    restocking_fee_percent: str
    return_shipping_paid_by: str
    return_warehouse: WarehouseView | None
    label_source: str
    label_carrier: str
    label_tracking_number: str
    label_has_file: bool
    label_issued_at: datetime | None
    received_at: datetime | None
    resolved_at: datetime | None
    platform_sync: str
    platform_sync_detail: str
    lines: list[RmaLineView]
    evidence: list[EvidenceView]
    events: list[RmaEventView]
    refunds: list[RefundView]
    actions: list[str]
    created_at: datetime


S = RmaStatus
# action -> (the status it needs to move to, or None for actions that do not move; the permission)
ACTIONS: dict[str, tuple[str | None, str]] = {
    "approve": (S.APPROVED, Permission.APPROVE),
    "reject": (S.REJECTED, Permission.APPROVE),
    "request-evidence": (S.NEEDS_EVIDENCE, Permission.PROCESS),
    "offer-partial": (S.PARTIAL_OFFERED, Permission.APPROVE),
    "accept-partial": (S.RESOLVED, Permission.PROCESS),
    "decline-partial": (S.UNDER_REVIEW, Permission.PROCESS),
    "issue-label": (S.LABEL_ISSUED, Permission.PROCESS),
    "mark-in-transit": (S.IN_TRANSIT, Permission.PROCESS),
    "receive": (S.RECEIVED, Permission.PROCESS),
    "inspect": (S.INSPECTED, Permission.PROCESS),
    "resolve": (S.RESOLVED, Permission.APPROVE),
    "cancel": (S.CANCELLED, Permission.APPROVE),
}


def rma_actions_for(user: Any, rma: Rma) -> list[str]:
    """The actions the buttons offer: allowed by the transition table and the user's role."""
    out = []
    moves = RMA_TRANSITIONS.get(rma.status, frozenset())
    for action, (target, perm) in ACTIONS.items():
        if action in ("accept-partial", "decline-partial") and rma.status != S.PARTIAL_OFFERED:
            continue
        if action == "resolve" and rma.status == S.PARTIAL_OFFERED:
            continue
        if action == "request-evidence" and rma.status == S.NEEDS_EVIDENCE:
            pass
        elif target not in moves:
            continue
        if action == "cancel" and rma.status == S.REQUESTED:
            perm = Permission.PROCESS
        if has_perm(user, perm):
            out.append(action)
    if rma.status in (S.REQUESTED, S.UNDER_REVIEW, S.NEEDS_EVIDENCE, S.APPROVED, S.PARTIAL_OFFERED) and has_perm(
        user, Permission.PROCESS
    ):
        out.append("add-evidence")
    if (
        rma.status in (S.APPROVED, S.LABEL_ISSUED)
        and rma.return_request_id is not None
        and has_perm(user, Permission.PROCESS)
        and Capability.FETCH_RETURN_LABEL in capabilities_of(rma.store)
    ):
        out.append("fetch-label")  # the marketplace's own label (returns.rma_labels)
    return out


def rma_get(user: Any, rma_id: Any) -> Rma:
    """The RMA if `user` sees it, else NotFound (returns.selectors.rma_get, for any id value)."""
    from .selectors import rma_get as visible_rma

    organization_of(user)
    if isinstance(rma_id, bool) or not isinstance(rma_id, int):
        raise NotFound(_("RMA not found"), field="rma_id")
    return visible_rma(user, rma_id)


def rma_detail(user: Any, rma_id: Any) -> RmaDetail:
    """GET /rmas/{id}: the RMA page's reader (returns.selectors.rma_detail, one load) as flat values."""
    from .notify import return_address
    from .selectors import rma_detail as read_detail

    detail = read_detail(user, rma_get(user, rma_id).pk)
    rma = detail.rma
    warehouse = rma.return_warehouse
    return RmaDetail(
        id=rma.pk,
        number=rma.number,
        status=rma.status,
        status_label=str(rma.get_status_display()),
        resolution=rma.resolution,
        outcome=rma.outcome,
        inspection_result=rma.inspection_result,
        reason=rma.reason,
        buyer_comment=rma.buyer_comment,
        buyer_language=rma.buyer_language,
        delivery_country=rma.delivery_country,
        store_id=rma.store_id,
        order_id=rma.order_id,
        order_number=rma.order.external_id,
        customer_id=rma.customer_id,
        ticket_id=rma.ticket_id,
        return_request_id=rma.return_request_id,
        requested_at=rma.requested_at,
        decision=rma.decision,
        policy_version=rma.policy_version,
        discrepancies=rma.discrepancies,
        restocking_fee_percent=str(rma.restocking_fee_percent),
        return_shipping_paid_by=rma.return_shipping_paid_by,
        return_warehouse=(
            WarehouseView(warehouse.pk, warehouse.code, warehouse.name, return_address(rma)) if warehouse else None
        ),
        label_source=rma.label_source,
        label_carrier=rma.label_carrier,
        label_tracking_number=rma.label_tracking_number,
        label_has_file=bool(rma.label_file),
        label_issued_at=rma.label_issued_at,
        received_at=rma.received_at,
        resolved_at=rma.resolved_at,
        platform_sync=rma.platform_sync,
        platform_sync_detail=rma.platform_sync_detail,
        lines=[
            RmaLineView(
                line.pk,
                line.order_line_id,
                line.sku,
                line.quantity,
                str(line.unit_price_amount),
                line.currency,
                line.reason,
                line.serial_number,
                line.imei,
                line.inspection_result,
                line.qc_checklist,
                line.disposition,
            )
            for line in detail.lines
        ],
        evidence=[
            EvidenceView(
                e.pk, e.kind, e.value, e.line_id, e.attachment_id, bool(e.file_name), e.actor_kind, e.actor_ref, e.at
            )
            for e in detail.evidence
        ],
        events=[
            RmaEventView(e.id, e.type, e.payload, e.actor_kind, e.actor_ref, e.actor_name, e.at)
            for e in detail.timeline
        ],
        refunds=[RefundView(r.pk, r.kind, r.status, str(r.amount), r.currency, r.created_at) for r in detail.refunds],
        actions=rma_actions_for(user, rma),
        created_at=rma.created_at,
    )


# --- the inspection form and evidence files -------------------------------------------------------


@dataclass(frozen=True)
class QcFormItem:
    code: str
    label: str
    decided_by_identifier: bool  # compared with the identifier shipped (the inspector reads it, not ticks it)


@dataclass(frozen=True)
class QcFormLine:
    line_id: int
    sku: str
    title: str
    quantity: int
    category: str
    items: list[QcFormItem]
    asks_imei: bool
    asks_serial: bool
    dispositions: tuple[str, ...]


def rma_qc_form(user: Any, rma_id: Any) -> list[QcFormLine]:
    """The inspection checklist of each line of the RMA (returns.qc, by the product's category), for
    the QC form: which items the inspector ticks and which are decided by the identifier read from the
    unit (an IMEI or serial number shipped on record in the warranty registry)."""
    from .qc import DISPOSITIONS, IMEI_MATCHES, SERIAL_MATCHES, checklist_for, shipped_identifiers

    rma = rma_get(user, rma_id)
    out = []
    for line in rma.lines.select_related("order_line__product").order_by("id"):
        product = line.order_line.product
        category = product.category if product is not None else "other"
        imeis, serials = shipped_identifiers(rma.organization_id, line.order_line_id)
        items = checklist_for(category)
        decided = {IMEI_MATCHES.code: bool(imeis), SERIAL_MATCHES.code: bool(serials)}
        out.append(
            QcFormLine(
                line_id=line.pk,
                sku=line.sku,
                title=line.order_line.title,
                quantity=line.quantity,
                category=category,
                items=[QcFormItem(i.code, str(i.label), decided.get(i.code, False)) for i in items],
                asks_imei=IMEI_MATCHES in items,
                asks_serial=SERIAL_MATCHES in items,
                dispositions=DISPOSITIONS,
            )
        )
    return out


@dataclass(frozen=True)
class StoredFile:
    """A file in the default storage, opened when served (core.downloads.stored_file_response)."""

    name: str

    def open(self, mode: str = "rb") -> Any:
        from django.core.files.storage import default_storage

        return default_storage.open(self.name, mode)


def rma_evidence_file(user: Any, rma_id: Any, evidence_id: Any) -> tuple[StoredFile, str, str, bool]:
    """An uploaded evidence file (a buyer's photo or video, a QC photo) of an RMA the user sees:
    (the stored file, a download name, its content type from the sniffed extension it was stored
    under, whether a browser may show it inline). NotFound for an RMA the user does not see, another
    RMA's evidence or one without a file."""
    import os

    rma = rma_get(user, rma_id)
    if isinstance(evidence_id, bool) or not isinstance(evidence_id, int):
        raise NotFound(_("evidence not found"), field="evidence_id")
    evidence = rma.evidence.filter(pk=evidence_id).exclude(file_name="").first()
    if evidence is None:
        raise NotFound(_("evidence not found"), field="evidence_id")
    from aftersales.inbox.attachment_types import ACCEPTED, INLINE_TYPES

    extension = os.path.splitext(evidence.file_name)[1].lower()
    by_extension = {ext: content_type for content_type, ext in ACCEPTED.items()}
    content_type = by_extension.get(extension, "application/octet-stream")
    name = f"{rma.number}-{evidence.kind}-{evidence.pk}{extension}"
    return StoredFile(evidence.file_name), name, content_type, content_type in INLINE_TYPES


def with_open_rma(requests: list[Any]) -> list[Any]:
    """Marketplace return requests (ReturnRequest) each given `open_rma`: its RMA not cancelled, or
    None (the ticket page shows the RMA's number, or the "Open RMA" button while none is open and the
    request has not ended on the marketplace: returns.rma.ENDED_ON_PLATFORM). One query."""
    from .rma import ENDED_ON_PLATFORM

    found: dict[int, Rma] = {}
    ids = [r.pk for r in requests]
    if ids:
        for rma in Rma.objects.filter(return_request_id__in=ids).exclude(status=RmaStatus.CANCELLED).order_by("-pk"):
            found.setdefault(rma.return_request_id, rma)  # type: ignore[arg-type]
    for r in requests:
        r.open_rma = found.get(r.pk)
        r.rma_openable = r.open_rma is None and r.platform_state not in ENDED_ON_PLATFORM and r.order_id is not None
    return requests
