"""The marketplace's own return label on an RMA (issue 10 §3, a label "from the platform").

`rma_label_fetch` asks the store's connector for the label it issued for the RMA's marketplace return
(Capability.FETCH_RETURN_LABEL: eBay's Post-Order get_shipping_label; see docs/returns.md for
Shopify and Amazon) and stores the PDF on the RMA through the same upload checks as an uploaded label
(the bytes are sniffed, only PDF / PNG / JPEG kept, the size bounded). An approved RMA moves to
label_issued with source `platform` (no write-back: the marketplace issued it); an RMA whose label is
already issued gets the file. The carrier and tracking number, when given, are followed like any
return parcel. The platform call runs outside any transaction and row lock.

Also automatic: when a pulled marketplace return moves to a status in which the platform has issued
its label (the connector's `return_label_statuses`, e.g. eBay's READY_FOR_SHIPPING), or its record
says a label exists (`ReturnRecord.label_available`: Shopify's reverse delivery with a label file),
its approved RMA without a label file gets it (`rma_label_fetch_task`, as
`Actor.system("platform-labels")`). Fetched once: after it the RMA has its file and is label_issued."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.channels.base import Capability, ConnectorError, ReturnLabel
from aftersales.channels.context import store_context
from aftersales.channels.registry import get_connector
from aftersales.channels.status import capabilities_of
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, ValidationFailed

from .access import Automation, actor_of
from .models import LabelSource, Rma, RmaStatus
from .rma import _lock, record_event, rma_transition
from .rma_actions import LABEL_TYPES, Upload, _carrier_fields, _files_kept_only_on_commit, _follow_parcel, _store_file

FETCHABLE = (RmaStatus.APPROVED, RmaStatus.LABEL_ISSUED)


def _checked(user: Any, rma_id: Any) -> Rma:
    """The RMA (locked briefly) if the user may process it and its label can come from the platform."""
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        if rma.return_request_id is None:
            raise ValidationFailed(_("rma_id: this RMA is not from a marketplace return"), field="rma_id")
        if Capability.FETCH_RETURN_LABEL not in capabilities_of(rma.store):
            raise Conflict(_("this store's connector cannot fetch the marketplace's label"), field="rma_id")
        if rma.status not in FETCHABLE:
            raise Conflict(_("a label is fetched for an approved RMA or one whose label is issued"), field="rma_id")
        return Rma.objects.select_related("store", "return_request").get(pk=rma.pk)


def _fetch(rma: Rma) -> ReturnLabel:
    assert rma.return_request is not None
    try:
        connector: Any = get_connector(rma.store.platform)
        label = connector.fetch_return_label(store_context(rma.store), rma.return_request.external_id)
    except ConnectorError as exc:
        raise Conflict(_("the marketplace did not give the label: %(reason)s") % {"reason": exc}) from exc
    if label is None:
        raise Conflict(_("the marketplace has no label for this return yet"), field="rma_id")
    return label


def rma_label_fetch(*, user: Any, rma_id: Any) -> Rma:
    """Fetch and store the marketplace's label (PROCESS; see the module docstring)."""
    label = _fetch(_checked(user, rma_id))
    carrier, tracking_number = _carrier_fields(label.carrier, label.tracking_number)
    with _files_kept_only_on_commit(), transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        if rma.status not in FETCHABLE:  # moved meanwhile
            raise Conflict(_("a label is fetched for an approved RMA or one whose label is issued"), field="rma_id")
        rma.label_file, _type = _store_file(
            Upload(filename=label.filename, content=label.content),
            field="file",
            allowed=LABEL_TYPES,
            folder=f"rma/{rma.organization_id}/labels",
        )
        rma.label_source = LabelSource.PLATFORM
        rma.label_carrier = carrier or rma.label_carrier
        rma.label_tracking_number = tracking_number or rma.label_tracking_number
        rma.save(update_fields=["label_file", "label_source", "label_carrier", "label_tracking_number", "updated_at"])
        _follow_parcel(rma, carrier=rma.label_carrier, tracking_number=rma.label_tracking_number)
        actor = actor_of(user)
        if rma.status == RmaStatus.APPROVED:
            rma_transition(
                rma,
                RmaStatus.LABEL_ISSUED,
                actor=actor,
                source=LabelSource.PLATFORM,
                carrier=rma.label_carrier,
                tracking_number=rma.label_tracking_number,
            )
        else:
            record_event(
                rma,
                "platform_label_fetched",
                actor,
                carrier=rma.label_carrier,
                tracking_number=rma.label_tracking_number,
            )
    return rma


LABEL_ACTOR = Actor.system("platform-labels")


def rma_label_fetch_automatic(*, rma_id: int) -> str:
    """The automatic fetch (the sync saw the platform issue a label): `stored`, or why not (no
    label yet, the RMA moved on, the store cannot). Never raises for those: the task is done."""
    organization_id = Rma.objects.filter(pk=rma_id).values_list("organization_id", flat=True).first()
    if organization_id is None:
        return "gone"
    try:
        rma_label_fetch(user=Automation(actor=LABEL_ACTOR, organization_id=organization_id), rma_id=rma_id)
    except (Conflict, ValidationFailed) as exc:
        return f"not stored: {exc.message}"
    return "stored"


def rmas_without_platform_label(*, return_request_id: int) -> list[int]:
    """Approved RMAs of this marketplace return without a label file (the ones a label the platform
    issued is fetched for; after it they are label_issued with a file, so a label is fetched once)."""
    return list(
        Rma.objects.filter(return_request_id=return_request_id, status=RmaStatus.APPROVED, label_file="").values_list(
            "pk", flat=True
        )
    )


def rmas_waiting_for_platform_label(*, return_request_id: int, platform: str, new_status: str) -> list[int]:
    """RMAs of this marketplace return whose label the platform has just issued (the connector says
    which statuses mean that) and that have no label file yet."""
    try:
        connector: Any = get_connector(platform)
    except ConnectorError:
        return []
    if Capability.FETCH_RETURN_LABEL not in connector.capabilities:
        return []
    if new_status not in getattr(connector, "return_label_statuses", frozenset()):
        return []
    return rmas_without_platform_label(return_request_id=return_request_id)
