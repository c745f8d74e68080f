"""RMAs (issue 10 sections 3 and 8): open one, read it (lines, evidence, timeline, refunds, sync
state), act on it, print its slip. The list, the exceptions and bulk actions are api/routers/rma_lists.py.

Who may do what (docs/returns.md): opening, asking for and adding evidence, labels, transit, receiving,
inspecting and recording the buyer's answer to an offer need PROCESS; approving, rejecting, offering a
partial refund, resolving and cancelling need APPROVE (PROCESS may cancel an RMA still `requested`).
An RMA of another organization, or on a ticket outside the user's scope, is 404; bad input is a 422
naming the field and writes nothing."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import Status
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from aftersales.core.downloads import stored_file_response
from aftersales.core.errors import ValidationFailed
from aftersales.returns.rma import (
    rma_approve,
    rma_create,
    rma_open_for_return_request,
    rma_reject,
    rma_request_evidence,
)
from aftersales.returns.rma_actions import (
    Upload,
    rma_accept_partial,
    rma_add_evidence,
    rma_cancel,
    rma_decline_partial,
    rma_inspect,
    rma_issue_label,
    rma_mark_in_transit,
    rma_offer_partial,
    rma_receive,
    rma_resolve,
)
from aftersales.returns.rma_labels import rma_label_fetch
from aftersales.returns.rma_selectors import rma_detail, rma_evidence_file
from aftersales.returns.slip import rma_slip_pdf

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.rmas import (
    ApproveIn,
    CancelIn,
    EvidenceIn,
    EvidenceRequestIn,
    InspectIn,
    LabelIn,
    NoteIn,
    OfferIn,
    ReceiveIn,
    RejectIn,
    ResolveIn,
    RmaIn,
    RmaOut,
    TransitIn,
)

router = Router(tags=["rmas"])

# GET /rmas (the list) is api/routers/rma_lists.py's: one URL is one Django pattern, so POST /rmas is
# registered on that router (two routers with the same path would answer 405 to one of the methods).
try:
    from .rma_lists import router as _rmas_path_router
except ImportError:  # the list endpoint not installed: the path is ours alone
    _rmas_path_router = router


@_rmas_path_router.post("/rmas", response=with_errors({201: RmaOut}), tags=["rmas"])
def create_rma(request: HttpRequest, payload: RmaIn) -> Status[Any]:
    """Open an RMA for order lines (PROCESS). The automatic checks run at once: the order and its lines,
    the SKU, the quantity within what was purchased minus what is on other RMAs, the policy's window,
    reason and evidence. The RMA lands `requested`, `under_review` (discrepancies, listed), `needs_evidence`,
    or `approved`/`resolved` when the policy grants a returnless refund. 422 names the field (a quantity
    above what was purchased, another order's line, an unknown order) and writes nothing."""
    user = current_user(request)
    rma = rma_create(
        user=user,
        order_id=payload.order_id,
        lines=[line.model_dump() for line in payload.lines],
        reason=payload.reason,
        comment=payload.comment,
        evidence=[e.model_dump() for e in payload.evidence],
        ticket_id=payload.ticket_id,
    )
    return Status(201, rma_detail(user, rma.pk))


@router.post("/return-requests/{return_request_id}/rma", response=with_errors({201: RmaOut}), tags=["rmas"])
def create_rma_from_return_request(request: HttpRequest, return_request_id: Id) -> Status[Any]:
    """Open the RMA for a marketplace return request (PROCESS), as the ticket page's "Open RMA" button
    does: its lines matched to the order, the marketplace's reason, the same automatic checks as the
    connector's path (discrepancies listed for the agent). 422 naming return_request_id, nothing written,
    when the request already has an RMA (not cancelled) or was cancelled, closed, declined or completed
    on the marketplace; 404 for a request outside your organization or scope."""
    user = current_user(request)
    rma = rma_open_for_return_request(user=user, return_request_id=return_request_id)
    return Status(201, rma_detail(user, rma.pk))


@router.get("/rmas/{rma_id}", response=with_errors({200: RmaOut}))
def get_rma(request: HttpRequest, rma_id: Id) -> Any:
    """One RMA: lines, evidence, the timeline (who did what and when), refunds, the marketplace sync
    state (`pending_sync`: do it on the marketplace by hand) and the actions you may take now."""
    return rma_detail(current_user(request), rma_id)


@router.get("/rmas/{rma_id}/slip.pdf", response=with_errors({200: None}))
def rma_slip(request: HttpRequest, rma_id: Id) -> HttpResponse:
    """The printable RMA slip (PDF: number, Code 128 barcode, return address, lines, instructions in
    the buyer's language). Whoever may see the RMA."""
    number, pdf = rma_slip_pdf(user=current_user(request), rma_id=rma_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/rmas/{rma_id}/approve", response=with_errors({200: RmaOut}))
def approve_rma(request: HttpRequest, rma_id: Id, payload: ApproveIn) -> Any:
    """Approve (APPROVE) with the resolution given or proposed; the return hub is picked for the buyer's
    country unless given. A returnless refund requests the refund and resolves the RMA."""
    user = current_user(request)
    rma_approve(user=user, rma_id=rma_id, resolution=payload.resolution, warehouse_id=payload.warehouse_id)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/reject", response=with_errors({200: RmaOut}))
def reject_rma(request: HttpRequest, rma_id: Id, payload: RejectIn) -> Any:
    """Reject (APPROVE) with the reason the buyer is told."""
    user = current_user(request)
    rma_reject(user=user, rma_id=rma_id, reason=payload.reason)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/request-evidence", response=with_errors({200: RmaOut}))
def request_evidence(request: HttpRequest, rma_id: Id, payload: EvidenceRequestIn) -> Any:
    """Ask the buyer for evidence (PROCESS): photo, video, imei, serial_number."""
    user = current_user(request)
    rma_request_evidence(user=user, rma_id=rma_id, kinds=payload.kinds, message=payload.message)
    return rma_detail(user, rma_id)


def _multipart_or_json(
    request: HttpRequest, schema: type[BaseModel], *, files_field: str = "file", json_fields: tuple[str, ...] = ()
) -> tuple[Any, list[Upload]]:
    """A body as JSON, or as multipart/form-data (its fields, `json_fields` given as JSON text, plus the
    files uploaded under `files_field`)."""
    content_type = request.content_type or ""
    files: list[Upload] = []
    if content_type == "multipart/form-data":
        data: dict[str, Any] = {key: request.POST.get(key) for key in request.POST}
        for name in json_fields:
            if name in data:
                try:
                    data[name] = json.loads(data[name] or "null")
                except ValueError:
                    raise ValidationFailed(_("%(f)s: not valid JSON") % {"f": name}, field=name) from None
        if "line_id" in data and data["line_id"] not in (None, ""):
            try:
                data["line_id"] = int(data["line_id"])
            except ValueError:
                raise ValidationFailed(_("line_id: must be a line id of the RMA"), field="line_id") from None
        for upload in request.FILES.getlist(files_field):
            files.append(Upload(filename=upload.name or "file", content=upload.read()))
    else:
        try:
            data = json.loads(request.body or b"null")
        except ValueError:
            raise ValidationFailed(_("body: not valid JSON"), field="body") from None
        if not isinstance(data, dict):
            raise ValidationFailed(_("body: must be a JSON object"), field="body")
    try:
        return schema.model_validate(data), files
    except PydanticValidationError as exc:
        raise NinjaValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def _body(
    schema: type[BaseModel], description: str, *, files_field: str = "file", many: bool = False
) -> dict[str, Any]:
    properties = schema.model_json_schema()
    binary = {"type": "string", "format": "binary"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": properties},
                "multipart/form-data": {
                    "schema": {
                        **properties,
                        "properties": {
                            **properties.get("properties", {}),
                            files_field: {"type": "array", "items": binary} if many else binary,
                        },
                    }
                },
            },
        }
    }


@router.post(
    "/rmas/{rma_id}/add-evidence",
    response=with_errors({201: RmaOut}),
    openapi_extra=_body(EvidenceIn, "JSON (imei, serial_number) or multipart/form-data with a photo or video"),
)
def add_evidence(request: HttpRequest, rma_id: Id) -> Status[Any]:
    """Add evidence (PROCESS): an IMEI (checked), a serial number, or a photo / video upload (its real
    type is read from the bytes; stored under a random name)."""
    user = current_user(request)
    payload, files = _multipart_or_json(request, EvidenceIn)
    if len(files) > 1:
        raise ValidationFailed(_("file: one file per request"), field="file")
    rma_add_evidence(
        user=user,
        rma_id=rma_id,
        kind=payload.kind,
        value=payload.value,
        upload=files[0] if files else None,
        line_id=payload.line_id,
    )
    return Status(201, rma_detail(user, rma_id))


@router.post("/rmas/{rma_id}/offer-partial", response=with_errors({200: RmaOut}))
def offer_partial(request: HttpRequest, rma_id: Id, payload: OfferIn) -> Any:
    """Offer a partial refund for keeping the item (APPROVE)."""
    user = current_user(request)
    rma_offer_partial(user=user, rma_id=rma_id, amount=payload.amount, percent=payload.percent, message=payload.message)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/accept-partial", response=with_errors({200: RmaOut}))
def accept_partial(request: HttpRequest, rma_id: Id) -> Any:
    """The buyer accepted the offer (PROCESS): the partial refund is requested, the RMA resolved."""
    user = current_user(request)
    rma_accept_partial(user=user, rma_id=rma_id)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/decline-partial", response=with_errors({200: RmaOut}))
def decline_partial(request: HttpRequest, rma_id: Id, payload: NoteIn) -> Any:
    """The buyer declined the offer (PROCESS): back to review."""
    user = current_user(request)
    rma_decline_partial(user=user, rma_id=rma_id, note=payload.note)
    return rma_detail(user, rma_id)


@router.post(
    "/rmas/{rma_id}/issue-label",
    response=with_errors({200: RmaOut}),
    openapi_extra=_body(LabelIn, "JSON (carrier, platform) or multipart/form-data with the label file (uploaded)"),
)
def issue_label(request: HttpRequest, rma_id: Id) -> Any:
    """Issue the return label (PROCESS): an uploaded PDF or image, a carrier and tracking number (the
    tracking app follows it), or the marketplace's own label when the store's connector can."""
    user = current_user(request)
    payload, files = _multipart_or_json(request, LabelIn)
    if len(files) > 1:
        raise ValidationFailed(_("file: one file per request"), field="file")
    rma_issue_label(
        user=user,
        rma_id=rma_id,
        source=payload.source,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        upload=files[0] if files else None,
    )
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/fetch-label", response=with_errors({200: RmaOut}))
def fetch_label(request: HttpRequest, rma_id: Id) -> Any:
    """Fetch the marketplace's own return label for the RMA's marketplace return (PROCESS; stores
    whose connector can: eBay) and store it like an uploaded label: an approved RMA becomes
    label_issued. 409 while the marketplace has none, or for a store that cannot."""
    user = current_user(request)
    rma_label_fetch(user=user, rma_id=rma_id)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/mark-in-transit", response=with_errors({200: RmaOut}))
def mark_in_transit(request: HttpRequest, rma_id: Id, payload: TransitIn) -> Any:
    """The buyer sent the parcel (PROCESS)."""
    user = current_user(request)
    rma_mark_in_transit(user=user, rma_id=rma_id, carrier=payload.carrier, tracking_number=payload.tracking_number)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/receive", response=with_errors({200: RmaOut}))
def receive(request: HttpRequest, rma_id: Id, payload: ReceiveIn) -> Any:
    """The warehouse received the parcel (PROCESS); the warehouse team is notified."""
    user = current_user(request)
    rma_receive(user=user, rma_id=rma_id, warehouse_id=payload.warehouse_id, note=payload.note)
    return rma_detail(user, rma_id)


@router.post(
    "/rmas/{rma_id}/inspect",
    response=with_errors({200: RmaOut}),
    openapi_extra=_body(
        InspectIn,
        "JSON, or multipart/form-data with `lines` as JSON text and QC photos under `photos`",
        files_field="photos",
        many=True,
    ),
)
def inspect(request: HttpRequest, rma_id: Id) -> Any:
    """Inspect every line with its category's QC checklist (PROCESS); each line's disposition moves
    stock (restock, refurbish, write off). QC photos (multipart `photos`, several) are read for their
    real type (images only) and stored under random names as qc_photo evidence."""
    user = current_user(request)
    payload, photos = _multipart_or_json(request, InspectIn, files_field="photos", json_fields=("lines",))
    rma_inspect(user=user, rma_id=rma_id, lines=[line.model_dump() for line in payload.lines], photos=photos)
    return rma_detail(user, rma_id)


@router.get("/rmas/{rma_id}/evidence/{evidence_id}/file", response=with_errors({200: None}))
def evidence_file(request: HttpRequest, rma_id: Id, evidence_id: Id) -> StreamingHttpResponse:
    """An uploaded evidence file (a buyer's photo or video, a QC photo) of an RMA the caller sees;
    served with its sniffed type, nosniff, never as a page."""
    file, name, content_type, inline = rma_evidence_file(current_user(request), rma_id, evidence_id)
    return stored_file_response(file, filename=name, content_type=content_type, inline=inline)


@router.post("/rmas/{rma_id}/resolve", response=with_errors({200: RmaOut}))
def resolve(request: HttpRequest, rma_id: Id, payload: ResolveIn) -> Any:
    """Close the RMA with its outcome (APPROVE); `refunded` requests the refund (key rma:<id>:refund)."""
    user = current_user(request)
    rma_resolve(user=user, rma_id=rma_id, outcome=payload.outcome, note=payload.note)
    return rma_detail(user, rma_id)


@router.post("/rmas/{rma_id}/cancel", response=with_errors({200: RmaOut}))
def cancel(request: HttpRequest, rma_id: Id, payload: CancelIn) -> Any:
    """Cancel an open RMA (APPROVE; PROCESS while it is still requested)."""
    user = current_user(request)
    rma_cancel(user=user, rma_id=rma_id, reason=payload.reason)
    return rma_detail(user, rma_id)
