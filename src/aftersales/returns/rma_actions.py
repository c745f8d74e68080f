"""The RMA's actions after the decision (issue 10, section 3): evidence, the partial-refund offer, the
return label, transit, receipt, inspection (QC), resolution and cancellation. Same rules as
returns.rma: one transaction each on the locked RMA row, statuses only through `rma_transition`,
every action on the timeline with its actor, side effects after commit (subscribers).

Permissions: add evidence, issue a label, mark in transit, receive, inspect and record the buyer's
answer to an offer need PROCESS; offering a partial refund, resolving and cancelling need APPROVE
(PROCESS may cancel an RMA that is still `requested`)."""

from __future__ import annotations

import contextlib
import contextvars
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.catalog.models import Shipment
from aftersales.channels.base import Capability
from aftersales.channels.status import capabilities_of
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.validation import check_text
from aftersales.inbox.attachment_types import NotAccepted, sniff

from .events import RmaParcelArrived
from .models import (
    EvidenceKind,
    ExchangeStatus,
    InspectionResult,
    LabelSource,
    Rma,
    RmaEvidence,
    RmaOutcome,
    RmaResolution,
    RmaStatus,
)
from .qc import judge_line, shipped_identifiers
from .rma import (
    CENT,
    _evidence_added,
    _lock,
    _mark_sync_needed,
    _request_refund,
    _resolve_locked,
    check_evidence_value,
    record_event,
    rma_refund_amount,
    rma_transition,
)
from .workflow import check_rma_transition

S = RmaStatus
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/3gpp"})
LABEL_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


def _store_file(upload: Any, *, field: str, allowed: frozenset[str], folder: str) -> tuple[str, str]:
    """Sniff an upload's real type (never its name or declared type: inbox.attachment_types) and store
    it under a random name with its sniffed extension. Returns (storage name, content type)."""
    if not isinstance(upload, Upload) or not isinstance(upload.content, bytes) or not upload.content:
        raise ValidationFailed(_("%(field)s: upload a file") % {"field": field}, field=field)
    if len(upload.content) > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            _("%(field)s: the file is larger than %(mb)s MB")
            % {"field": field, "mb": settings.ATTACHMENT_MAX_BYTES // 2**20},
            field=field,
        )
    try:
        sniffed = sniff(upload.content, allowed=allowed)
    except NotAccepted as exc:
        raise ValidationFailed(_("%(field)s: %(problem)s") % {"field": field, "problem": exc}, field=field) from None
    name = default_storage.save(f"{folder}/{secrets.token_hex(16)}{sniffed.extension}", ContentFile(upload.content))
    stored = _stored_files.get()
    if stored is not None:
        stored.append(name)
    return name, sniffed.content_type


_stored_files: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("rma_stored_files", default=None)


@contextlib.contextmanager
def _files_kept_only_on_commit() -> Iterator[None]:
    """Wrap an action that stores files: if it fails (its transaction rolls back), the files it
    stored are deleted again, so nothing is left half-written."""
    stored: list[str] = []
    token = _stored_files.set(stored)
    try:
        yield
    except BaseException:
        for name in stored:
            with contextlib.suppress(Exception):
                default_storage.delete(name)
        raise
    finally:
        _stored_files.reset(token)


def _all_requested_evidence_present(rma: Rma) -> bool:
    from .checks import EVIDENCE_FROM_POLICY

    wanted: set[str] = {EVIDENCE_FROM_POLICY.get(k, k) for k in rma.decision.get("missing_evidence", [])}
    asked = rma.events.filter(type="evidence_requested").order_by("-at", "-id").first()
    if asked is not None:
        wanted |= set(asked.payload.get("kinds", []))
    have = set(rma.evidence.values_list("kind", flat=True))
    return wanted <= have


def rma_add_evidence(
    *, user: Any, rma_id: Any, kind: Any, value: Any = "", upload: Upload | None = None, line_id: Any = None
) -> RmaEvidence:
    """Add a photo or video (an upload, sniffed and stored under a random name), an IMEI (checked by
    python-stdnum) or a serial number (PROCESS). When the RMA waited for evidence and everything asked
    for is now there, it goes back to review. Locks the RMA row."""
    if kind not in (EvidenceKind.PHOTO, EvidenceKind.VIDEO, EvidenceKind.IMEI, EvidenceKind.SERIAL_NUMBER):
        raise ValidationFailed(_("kind: one of photo, video, imei, serial_number"), field="kind")
    if line_id is not None and (isinstance(line_id, bool) or not isinstance(line_id, int)):
        raise ValidationFailed(_("line_id: must be a line id of the RMA"), field="line_id")
    clean_value = ""
    if kind in (EvidenceKind.IMEI, EvidenceKind.SERIAL_NUMBER):
        clean_value = check_evidence_value(kind, value, field="value")
    elif upload is None:
        raise ValidationFailed(_("file: upload the photo or video"), field="file")
    with _files_kept_only_on_commit(), transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        if rma.status not in (S.REQUESTED, S.UNDER_REVIEW, S.NEEDS_EVIDENCE, S.APPROVED, S.PARTIAL_OFFERED):
            raise Conflict(_("evidence can no longer be added to this RMA (%(status)s)") % {"status": rma.status})
        line = None
        if line_id is not None:
            line = rma.lines.filter(pk=line_id).first()
            if line is None:
                raise ValidationFailed(_("line_id: not a line of this RMA"), field="line_id")
        file_name = ""
        if upload is not None and kind in (EvidenceKind.PHOTO, EvidenceKind.VIDEO):
            allowed = PHOTO_TYPES if kind == EvidenceKind.PHOTO else VIDEO_TYPES
            file_name, _type = _store_file(upload, field="file", allowed=allowed, folder=f"rma/{rma.organization_id}")
        actor = Actor.user(user)
        evidence = RmaEvidence.objects.create(
            rma=rma,
            line=line,
            kind=kind,
            value=clean_value,
            file_name=file_name,
            actor_kind=actor.kind,
            actor_ref=actor.id,
            at=now(),
        )
        if line is not None and kind == EvidenceKind.IMEI and not line.imei:
            line.imei = clean_value
            line.save(update_fields=["imei"])
        if line is not None and kind == EvidenceKind.SERIAL_NUMBER and not line.serial_number:
            line.serial_number = clean_value
            line.save(update_fields=["serial_number"])
        _evidence_added(rma, evidence, actor)
        if rma.status == S.NEEDS_EVIDENCE and _all_requested_evidence_present(rma):
            rma_transition(rma, S.UNDER_REVIEW, actor=actor, reason="evidence_received")
    return evidence


# --- the partial-refund offer ----------------------------------------------------------------------


def _parse_amount(value: Any, *, field: str) -> Decimal:
    if isinstance(value, float | bool):
        raise ValidationFailed(_('%(f)s: a decimal string, e.g. "12.50"') % {"f": field}, field=field)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_('%(f)s: a decimal string, e.g. "12.50"') % {"f": field}, field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed(_("%(f)s: must be more than 0") % {"f": field}, field=field)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationFailed(_("%(f)s: at most 2 decimal places") % {"f": field}, field=field)
    return amount


def rma_offer_partial(*, user: Any, rma_id: Any, amount: Any = None, percent: Any = None, message: Any = "") -> Rma:
    """Offer the buyer a partial refund for keeping the item (APPROVE): `amount` in the lines'
    currency, or `percent` of their value, else the policy's offer. Moves to partial_offered."""
    if not isinstance(message, str):
        raise ValidationFailed(_("message: must be text"), field="message")
    message = check_text(message, field="message", max_length=2000).strip()
    parsed_amount = None if amount is None else _parse_amount(amount, field="amount")
    parsed_percent = None
    if percent is not None:
        parsed_percent = _parse_amount(percent, field="percent")
        if parsed_percent >= 100:
            raise ValidationFailed(_("percent: less than 100"), field="percent")
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.APPROVE)
        check_rma_transition(rma.status, S.PARTIAL_OFFERED)
        if parsed_amount is None:
            pct = parsed_percent
            if pct is None and rma.decision.get("partial_refund_percent"):
                pct = Decimal(rma.decision["partial_refund_percent"])
            if pct is None:
                raise ValidationFailed(
                    _("amount: give an amount or a percent (the policy offers none)"), field="amount"
                )
            rma.resolution = RmaResolution.PARTIAL_REFUND
            parsed_amount, currency, _lines = rma_refund_amount(rma, percent=pct)
        else:
            rma.resolution = RmaResolution.PARTIAL_REFUND
            total, currency, _lines = rma_refund_amount(rma, percent=Decimal(100))
            if parsed_amount >= total:
                raise ValidationFailed(
                    _("amount: less than the lines' value (%(total)s %(currency)s)")
                    % {"total": total, "currency": currency},
                    field="amount",
                )
        offer = {"amount": str(parsed_amount.quantize(CENT)), "currency": currency, "message": message}
        rma.decision = {**rma.decision, "offer": offer}
        fields = ["resolution", "decision", "updated_at"]
        _mark_sync_needed(rma, fields)
        rma.save(update_fields=fields)
        rma_transition(rma, S.PARTIAL_OFFERED, actor=Actor.user(user), reason="offer", **offer)
    return rma


def rma_accept_partial(*, user: Any, rma_id: Any) -> Rma:
    """The buyer accepted the offer (recorded by an agent, PROCESS): the partial refund is requested
    (returns.refunds, key rma:<id>:refund) and the RMA resolved (kept with a partial refund)."""
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS, lock_order=True)
        if rma.status != S.PARTIAL_OFFERED:
            raise Conflict(_("no partial refund is on offer"))
        offer = rma.decision.get("offer") or {}
        total, _currency, _lines = rma_refund_amount(rma, percent=Decimal(100))
        amount = Decimal(offer["amount"])
        actor = Actor.user(user)
        record_event(rma, "offer_accepted", actor, **offer)
        _request_refund(rma, actor=actor, user=user, percent=amount / total * 100, exact_amount=amount)
        _resolve_locked(rma, RmaOutcome.KEPT_PARTIAL_REFUND, actor=actor)
    return rma


def rma_decline_partial(*, user: Any, rma_id: Any, note: Any = "") -> Rma:
    """The buyer declined the offer (PROCESS): back to review."""
    if not isinstance(note, str):
        raise ValidationFailed(_("note: must be text"), field="note")
    note = check_text(note, field="note", max_length=1000).strip()
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        if rma.status != S.PARTIAL_OFFERED:
            raise Conflict(_("no partial refund is on offer"))
        rma.resolution = (
            rma.decision.get("resolution") if rma.decision.get("resolution") in RmaResolution.values else ""
        )
        if rma.resolution == RmaResolution.PARTIAL_REFUND:
            rma.resolution = ""
        rma.save(update_fields=["resolution", "updated_at"])
        rma_transition(rma, S.UNDER_REVIEW, actor=Actor.user(user), reason="declined", note=note)
    return rma


# --- the way back -----------------------------------------------------------------------------------


def _follow_parcel(rma: Rma, *, carrier: str, tracking_number: str) -> None:
    """Record the return parcel as a shipment of the order so the tracking app follows it (its
    periodic registration picks up every shipment with a tracking number)."""
    if not tracking_number:
        return
    exists = Shipment.objects.filter(order_id=rma.order_id, tracking_number=tracking_number).exists()
    if not exists:
        Shipment.objects.create(order_id=rma.order_id, carrier=carrier or "", tracking_number=tracking_number)


def _carrier_fields(carrier: Any, tracking_number: Any) -> tuple[str, str]:
    if not isinstance(carrier, str) or not isinstance(tracking_number, str):
        raise ValidationFailed(_("tracking_number: must be text"), field="tracking_number")
    carrier = check_text(carrier, field="carrier", max_length=80, one_line=True).strip()
    tracking_number = check_text(tracking_number, field="tracking_number", max_length=80, one_line=True).strip()
    if tracking_number and (len(tracking_number) < 5 or not tracking_number.replace("-", "").isalnum()):
        raise ValidationFailed(_("tracking_number: 5 to 80 letters and digits"), field="tracking_number")
    return carrier, tracking_number


def rma_issue_label(
    *,
    user: Any,
    rma_id: Any,
    source: Any,
    carrier: Any = "",
    tracking_number: Any = "",
    upload: Upload | None = None,
) -> Rma:
    """Give the buyer a return label (PROCESS): an uploaded file (PDF or image), a carrier and tracking
    number, or the marketplace's own label (only for an RMA from a marketplace request whose store's
    connector can decide returns). Moves approved -> label_issued."""
    if source not in LabelSource.values:
        raise ValidationFailed(_("source: one of uploaded, carrier, platform"), field="source")
    carrier, tracking_number = _carrier_fields(carrier, tracking_number)
    if source == LabelSource.CARRIER and (not carrier or not tracking_number):
        field = "carrier" if not carrier else "tracking_number"
        raise ValidationFailed(_("%(f)s: required for a carrier label") % {"f": field}, field=field)
    if source == LabelSource.UPLOADED and upload is None:
        raise ValidationFailed(_("file: upload the label"), field="file")
    with _files_kept_only_on_commit(), transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        check_rma_transition(rma.status, S.LABEL_ISSUED)
        if rma.resolution not in (RmaResolution.RETURN_AND_REFUND, RmaResolution.EXCHANGE, RmaResolution.REPAIR):
            raise Conflict(_("nothing comes back for this resolution: no label is needed"))
        if source == LabelSource.PLATFORM and (
            rma.return_request_id is None or Capability.DECIDE_RETURN not in capabilities_of(rma.store)
        ):
            raise ValidationFailed(
                _("source: this store's connector cannot provide the marketplace's label"), field="source"
            )
        fields = ["label_source", "label_carrier", "label_tracking_number", "updated_at"]
        if upload is not None and source == LabelSource.UPLOADED:
            rma.label_file, _type = _store_file(
                upload, field="file", allowed=LABEL_TYPES, folder=f"rma/{rma.organization_id}/labels"
            )
            fields.append("label_file")
        rma.label_source = source
        rma.label_carrier = carrier
        rma.label_tracking_number = tracking_number
        _mark_sync_needed(rma, fields)
        rma.save(update_fields=fields)
        _follow_parcel(rma, carrier=carrier, tracking_number=tracking_number)
        rma_transition(
            rma, S.LABEL_ISSUED, actor=Actor.user(user), source=source, carrier=carrier, tracking_number=tracking_number
        )
    return rma


def rma_mark_in_transit(*, user: Any, rma_id: Any, carrier: Any = "", tracking_number: Any = "") -> Rma:
    """The buyer sent the parcel (PROCESS); a tracking number given now is followed by the tracking app."""
    carrier, tracking_number = _carrier_fields(carrier, tracking_number)
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        check_rma_transition(rma.status, S.IN_TRANSIT)
        if tracking_number and tracking_number != rma.label_tracking_number:
            rma.label_tracking_number = tracking_number
            rma.label_carrier = carrier or rma.label_carrier
            rma.save(update_fields=["label_tracking_number", "label_carrier", "updated_at"])
        _follow_parcel(rma, carrier=rma.label_carrier, tracking_number=rma.label_tracking_number)
        rma_transition(rma, S.IN_TRANSIT, actor=Actor.user(user), tracking_number=rma.label_tracking_number)
    return rma


def rma_receive(*, user: Any, rma_id: Any, warehouse_id: Any = None, note: Any = "") -> Rma:
    """The warehouse received the parcel (PROCESS): -> received, the warehouse team is reminded
    (RmaParcelArrived)."""
    if not isinstance(note, str):
        raise ValidationFailed(_("note: must be text"), field="note")
    note = check_text(note, field="note", max_length=1000).strip()
    if warehouse_id is not None and (isinstance(warehouse_id, bool) or not isinstance(warehouse_id, int)):
        raise ValidationFailed(_("warehouse_id: must be a warehouse id"), field="warehouse_id")
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        check_rma_transition(rma.status, S.RECEIVED)
        if warehouse_id is not None:
            from aftersales.inventory.models import Warehouse

            if not Warehouse.objects.filter(pk=warehouse_id, organization_id=rma.organization_id).exists():
                raise ValidationFailed(_("warehouse_id: no such warehouse"), field="warehouse_id")
            rma.return_warehouse_id = warehouse_id
            rma.save(update_fields=["return_warehouse", "updated_at"])
        actor = Actor.user(user)
        fields: list[str] = []
        _mark_sync_needed(rma, fields)
        if fields:
            rma.save(update_fields=[*fields, "updated_at"])
        rma_transition(rma, S.RECEIVED, actor=actor, warehouse_id=rma.return_warehouse_id, note=note)
        events.publish(
            RmaParcelArrived(
                rma_id=rma.pk,
                organization_id=rma.organization_id,
                warehouse_id=rma.return_warehouse_id,
                source="received",
                actor=actor,
            )
        )
    return rma


def rma_inspect(*, user: Any, rma_id: Any, lines: Any, photos: list[Upload] | None = None) -> Rma:
    """Inspect the returned units (PROCESS) with the checklist of each line's category (returns.qc):
    `lines` = [{line_id, checklist: {code: bool}, imei?, serial_number?, disposition?, note?}], one per
    RMA line. Each line's disposition moves stock through the inventory ledger (restock, refurbish or
    write off, key rma:<id>:line:<line id>:qc) in the return warehouse. -> inspected (passed when every
    line passed). QC photos are stored as evidence (qc_photo)."""
    from aftersales.inventory.services import stock_move

    if not isinstance(lines, list) or not lines:
        raise ValidationFailed(_("lines: one entry per RMA line"), field="lines")
    with _files_kept_only_on_commit(), transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        check_rma_transition(rma.status, S.INSPECTED)
        if rma.return_warehouse_id is None:
            raise ValidationFailed(
                _("warehouse_id: the RMA has no return warehouse; receive it into one"), field="warehouse_id"
            )
        rma_lines = {line.pk: line for line in rma.lines.select_related("order_line__product")}
        seen: set[int] = set()
        results = []
        for i, raw in enumerate(lines):
            where = f"lines[{i}]"
            if not isinstance(raw, dict):
                raise ValidationFailed(_("%(f)s: must be an object") % {"f": where}, field=where)
            line = rma_lines.get(raw.get("line_id"))  # type: ignore[arg-type]
            if line is None or line.pk in seen:
                raise ValidationFailed(
                    _("%(f)s.line_id: a line of this RMA, once") % {"f": where}, field=f"{where}.line_id"
                )
            seen.add(line.pk)
            product = line.order_line.product
            category = product.category if product is not None else "other"
            imei = raw.get("imei") or ""
            if imei:
                imei = check_evidence_value(EvidenceKind.IMEI, imei, field=f"{where}.imei")
            serial = raw.get("serial_number") or ""
            if serial:
                serial = check_evidence_value(EvidenceKind.SERIAL_NUMBER, serial, field=f"{where}.serial_number")
            shipped_imeis, shipped_serials = shipped_identifiers(rma.organization_id, line.order_line_id)
            if not shipped_imeis:
                claimed = {line.imei} if line.imei else set()
                claimed |= set(
                    rma.evidence.filter(Q(line=line) | Q(line__isnull=True), kind=EvidenceKind.IMEI).values_list(
                        "value", flat=True
                    )
                )
                shipped_imeis = frozenset(x for x in claimed if x) if category == "phones" and claimed else frozenset()
            disposition = raw.get("disposition")
            if disposition is not None and not isinstance(disposition, str):
                raise ValidationFailed(
                    _("%(f)s.disposition: must be text") % {"f": where}, field=f"{where}.disposition"
                )
            note = raw.get("note") or ""
            if not isinstance(note, str):
                raise ValidationFailed(_("%(f)s.note: must be text") % {"f": where}, field=f"{where}.note")
            note = check_text(note, field=f"{where}.note", max_length=500).strip()
            result = judge_line(
                category=category,
                answers=raw.get("checklist", {}),
                field=where,
                imei=imei,
                serial_number=serial,
                shipped_imeis=shipped_imeis,
                shipped_serials=shipped_serials,
                disposition=disposition,
            )
            results.append((line, result, note))
        missing = set(rma_lines) - seen
        if missing:
            raise ValidationFailed(
                _("lines: every RMA line must be inspected (missing %(ids)s)") % {"ids": sorted(missing)}, field="lines"
            )
        actor = Actor.user(user)
        for line, result, note in results:
            line.inspection_result = InspectionResult.PASSED if result.passed else InspectionResult.FAILED
            line.qc_checklist = [
                *result.items,
                *([{"code": "note", "label": "", "passed": result.passed, "note": note}] if note else []),
            ]
            line.disposition = result.disposition
            if result.imei:
                line.imei = result.imei
            if result.serial_number:
                line.serial_number = result.serial_number
            line.save(update_fields=["inspection_result", "qc_checklist", "disposition", "imei", "serial_number"])
            stock_move(
                organization_id=rma.organization_id,
                warehouse_id=rma.return_warehouse_id,
                sku=line.sku,
                kind=result.disposition,
                quantity=line.quantity,
                reference=f"rma:{rma.pk}",
                idempotency_key=f"rma:{rma.pk}:line:{line.pk}:qc",
                actor=actor,
                note=rma.number,
            )
        for i, photo in enumerate(photos or []):
            name, _type = _store_file(
                photo, field=f"photos[{i}]", allowed=PHOTO_TYPES, folder=f"rma/{rma.organization_id}/qc"
            )
            evidence = RmaEvidence.objects.create(
                rma=rma, kind=EvidenceKind.QC_PHOTO, file_name=name, actor_kind=actor.kind, actor_ref=actor.id, at=now()
            )
            _evidence_added(rma, evidence, actor)
        passed = all(result.passed for _line, result, _note in results)
        rma.inspection_result = InspectionResult.PASSED if passed else InspectionResult.FAILED
        rma.save(update_fields=["inspection_result", "updated_at"])
        rma_transition(
            rma,
            S.INSPECTED,
            actor=actor,
            result=rma.inspection_result,
            lines=[
                {"line_id": line.pk, "passed": result.passed, "disposition": result.disposition}
                for line, result, _n in results
            ],
        )
    return rma


# --- the end ------------------------------------------------------------------------------------------

OUTCOMES_BY_RESOLUTION = {
    RmaResolution.RETURN_AND_REFUND: {RmaOutcome.REFUNDED, RmaOutcome.RETURNED_TO_CUSTOMER},
    RmaResolution.RETURNLESS_REFUND: {RmaOutcome.REFUNDED},
    RmaResolution.EXCHANGE: {RmaOutcome.EXCHANGED, RmaOutcome.REFUNDED, RmaOutcome.RETURNED_TO_CUSTOMER},
    RmaResolution.REPAIR: {RmaOutcome.REPAIRED, RmaOutcome.REFUNDED, RmaOutcome.RETURNED_TO_CUSTOMER},
}


def rma_resolve(*, user: Any, rma_id: Any, outcome: Any, note: Any = "") -> Rma:
    """Close the RMA (APPROVE) with its outcome: `refunded` requests the refund (returns.refunds,
    key rma:<id>:refund, less the restocking fee of a return), `exchanged` needs an exchange that was
    not cancelled (returns.exchanges), `repaired` or `returned_to_customer` (e.g. failed inspection).
    Locks the order, then the RMA."""
    if outcome not in RmaOutcome.values or outcome == RmaOutcome.KEPT_PARTIAL_REFUND:
        raise ValidationFailed(
            _("outcome: one of refunded, exchanged, repaired, returned_to_customer"), field="outcome"
        )
    if not isinstance(note, str):
        raise ValidationFailed(_("note: must be text"), field="note")
    note = check_text(note, field="note", max_length=1000).strip()
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.APPROVE, lock_order=True)
        check_rma_transition(rma.status, S.RESOLVED)
        allowed = OUTCOMES_BY_RESOLUTION.get(rma.resolution, set(RmaOutcome.values))  # type: ignore[call-overload]
        if outcome not in allowed:
            raise ValidationFailed(
                _("outcome: %(outcome)s does not fit the resolution %(resolution)s")
                % {"outcome": outcome, "resolution": rma.resolution},
                field="outcome",
            )
        if rma.status == S.APPROVED and rma.resolution != RmaResolution.RETURNLESS_REFUND:
            raise Conflict(_("the goods are not back yet: receive and inspect them first"))
        actor = Actor.user(user)
        if outcome == RmaOutcome.REFUNDED:
            _request_refund(rma, actor=actor, user=user, percent=Decimal(100))
        elif (
            outcome == RmaOutcome.EXCHANGED
            and not rma.exchanges.exclude(status__in=[ExchangeStatus.CANCELLED, ExchangeStatus.OUT_OF_STOCK]).exists()
        ):
            raise Conflict(_("no exchange was made for this RMA"), field="outcome")
        _resolve_locked(rma, outcome, actor=actor, reason=note)
    return rma


def rma_cancel(*, user: Any, rma_id: Any, reason: Any = "") -> Rma:
    """Cancel an open RMA (APPROVE; PROCESS while it is still `requested`)."""
    if not isinstance(reason, str):
        raise ValidationFailed(_("reason: must be text"), field="reason")
    reason = check_text(reason, field="reason", max_length=1000).strip()
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        if rma.status != S.REQUESTED:
            check_perm(user, Permission.APPROVE)
        check_rma_transition(rma.status, S.CANCELLED)
        rma_transition(rma, S.CANCELLED, actor=Actor.user(user), reason=reason)
    return rma


# --- tracking of the return parcel ------------------------------------------------------------------

MOVING = frozenset(
    {"picked_up", "departed", "in_transit", "arrived", "customs_hold", "customs_cleared", "out_for_delivery"}
)


def rma_tracking_update(*, order_id: int, tracking_number: str, new_status: str, actor: Actor) -> str:
    """The tracking app saw the return parcel move (ShipmentStatusChanged for a label's tracking
    number): picked up or moving -> the RMA is in transit; delivered -> the warehouse is reminded
    (RmaParcelArrived, source "tracking"); the warehouse still receives it. Safe to run twice."""
    if not tracking_number:
        return "ignored"
    with transaction.atomic():
        rma = (
            Rma.objects.select_for_update()
            .filter(order_id=order_id, label_tracking_number=tracking_number)
            .exclude(status__in=[S.CANCELLED, S.REJECTED, S.RESOLVED])
            .order_by("-id")
            .first()
        )
        if rma is None:
            return "ignored"
        if new_status in MOVING and rma.status == S.LABEL_ISSUED:
            rma_transition(rma, S.IN_TRANSIT, actor=actor, reason="tracking", tracking_status=new_status)
            return "in_transit"
        if new_status == "delivered" and rma.status in (S.LABEL_ISSUED, S.IN_TRANSIT, S.APPROVED):
            if rma.events.filter(type="parcel_delivered").exists():
                return "already"
            record_event(rma, "parcel_delivered", actor, tracking_number=tracking_number)
            events.publish(
                RmaParcelArrived(
                    rma_id=rma.pk,
                    organization_id=rma.organization_id,
                    warehouse_id=rma.return_warehouse_id,
                    source="tracking",
                    actor=actor,
                )
            )
            return "delivered"
    return "ignored"
