"""RMAs: the seller's handling of a return, from the request to the refund, exchange or repair
(issue 10, section 3). The state machine is returns.workflow.RMA_TRANSITIONS; `rma_transition` is the
only writer of `Rma.status` (tests/architecture/test_status_transitions.py).

Every service here is one transaction on the RMA row locked with `select_for_update`, raises
core.errors (ValidationFailed naming the field, NotFound for another organization's or an unseen RMA,
PermissionDenied, Conflict for a move the table refuses), appends RmaEvent rows (the timeline: who did
what and when) and publishes returns.events after commit. Side effects (the marketplace write-back,
customer notifications, the warehouse reminder, tracking registration) are subscribers that enqueue
Huey tasks (returns/subscribers.py, returns/tasks.py): services never call them.

Who may do what (docs/returns.md): opening an RMA, asking for evidence, adding evidence, labels,
transit, receiving and inspecting need PROCESS; approving, rejecting, offering a partial refund and
resolving need APPROVE; cancelling needs APPROVE (PROCESS may cancel an RMA still `requested`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import can_view_ticket, check_perm, has_perm, is_admin, organization_of
from aftersales.catalog.models import Order
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.validation import check_text
from aftersales.inbox.models import Attachment, Ticket

from .access import Automation, actor_of, can_view_rma, check_rma_visible, rma_scope_q
from .checks import EVIDENCE_FROM_POLICY, Discrepancy, check_rma_request, parse_lines
from .events import RmaEvidenceAdded, RmaEvidenceRequested, RmaRequested, RmaStatusChanged
from .models import (
    EvidenceKind,
    PlatformReturnState,
    PlatformSync,
    ReturnRequest,
    Rma,
    RmaEvent,
    RmaEvidence,
    RmaLine,
    RmaResolution,
    RmaSequence,
    RmaStatus,
)
from .workflow import check_rma_transition

S = RmaStatus
CENT = Decimal("0.01")

# Timestamps set when the RMA reaches a status.
_STAMPS: dict[str, str] = {S.LABEL_ISSUED: "label_issued_at", S.RECEIVED: "received_at", S.RESOLVED: "resolved_at"}
# Evidence the buyer can be asked for (qc_photo is the warehouse's own).
REQUESTABLE_EVIDENCE = (EvidenceKind.PHOTO, EvidenceKind.VIDEO, EvidenceKind.IMEI, EvidenceKind.SERIAL_NUMBER)
# Resolutions where the goods come back to a warehouse.
PHYSICAL_RETURN = frozenset({RmaResolution.RETURN_AND_REFUND, RmaResolution.EXCHANGE, RmaResolution.REPAIR})


# --- the transition ------------------------------------------------------------------------------


def record_event(rma: Rma, type: str, actor: Actor, **payload: Any) -> RmaEvent:
    """Append one timeline row for `rma` (the caller holds the row lock)."""
    row = _event_row(rma, type, actor, now(), payload)
    row.save(force_insert=True)
    return row


def rma_transition(rma: Rma, to: str, *, actor: Actor, reason: str = "", **payload: Any) -> bool:
    """Move `rma` to status `to`: `rma_transition_batch` with this one RMA (see there). Returns False
    (nothing done) when the RMA already has that status."""
    return bool(rma_transition_batch([(rma, payload)], to, actor=actor, reason=reason))


def rma_transition_batch(
    moves: Sequence[tuple[Rma, dict[str, Any]]],
    to: str,
    *,
    actor: Actor,
    reason: str = "",
    published: list[object] | None = None,
) -> list[Rma]:
    """Move each RMA of `moves` to status `to` through returns.workflow.RMA_TRANSITIONS: sets the
    status and the time it reached it (label_issued_at, received_at, resolved_at) in one UPDATE,
    appends one `status_changed` RmaEvent per RMA (the actor, the reason and the move's payload) in one
    INSERT, and publishes one RmaStatusChanged per RMA after commit (publish_many: batch subscribers
    enqueue one task for all of them). RMAs already in `to` are left alone; returns the moved ones.

    The only writer of Rma.status. Runs inside the caller's transaction on RMA rows the caller locked
    (`select_for_update`). Raises ValidationFailed for an unknown status and Conflict for a move the
    table refuses (before anything is written). `published`: the RmaStatusChanged events are appended
    there instead, for a caller that publishes them in its own order (the sync engine's page path)."""
    moving = [(rma, payload) for rma, payload in moves if rma.status != to]
    for rma, _payload in moving:
        check_rma_transition(rma.status, to)
    if not moving:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("rma_transition runs inside the caller's transaction, on a locked RMA")
    at = now()
    stamp = _STAMPS.get(to)
    olds = []
    for rma, _payload in moving:
        olds.append(rma.status)
        rma.status = to
        rma.updated_at = at
        if stamp is not None:
            setattr(rma, stamp, at)
    stamps: dict[str, Any] = {"updated_at": at, **({stamp: at} if stamp is not None else {})}
    Rma.objects.filter(pk__in=[rma.pk for rma, _payload in moving]).update(status=to, **stamps)
    rows = RmaEvent.objects.bulk_create(
        [
            _event_row(rma, "status_changed", actor, at, {"old": old, "new": to, "reason": reason, **payload})
            for (rma, payload), old in zip(moving, olds, strict=True)
        ]
    )
    changes = [
        RmaStatusChanged(
            rma_id=rma.pk,
            organization_id=rma.organization_id,
            old_status=old,
            new_status=to,
            reason=reason,
            rma_event_id=row.pk,
            ticket_id=rma.ticket_id,
            actor=actor,
        )
        for (rma, _payload), old, row in zip(moving, olds, rows, strict=True)
    ]
    if published is not None:
        published.extend(changes)
    else:
        events.publish_many(changes)
    return [rma for rma, _payload in moving]


def _event_row(rma: Rma, type: str, actor: Actor, at: datetime, payload: dict[str, Any]) -> RmaEvent:
    return RmaEvent(
        rma=rma,
        type=type,
        payload=payload,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        actor_user_id=actor.user_id,
        at=at,
    )


# --- numbering -----------------------------------------------------------------------------------


def rma_number_next(*, organization_id: int, at: datetime) -> str:
    """The next RMA number of the organization for `at`'s year, e.g. RMA-2026-000123. Locks the
    year's RmaSequence row (created on first use; a concurrent first use retries on the unique key),
    so two requests never get the same number. Runs inside the caller's transaction."""
    year = at.year
    for _attempt in range(3):
        sequence = RmaSequence.objects.select_for_update().filter(organization_id=organization_id, year=year).first()
        if sequence is None:
            try:
                with transaction.atomic():
                    RmaSequence.objects.create(organization_id=organization_id, year=year, last=0)
            except IntegrityError:
                pass  # created meanwhile by a concurrent request: lock it on the next round
            continue
        sequence.last += 1
        sequence.save(update_fields=["last"])
        return f"RMA-{year}-{sequence.last:06d}"
    raise Conflict(_("could not allocate an RMA number, try again"))


# --- loading -------------------------------------------------------------------------------------


def _lock(user: Any, rma_id: Any, perm: str, *, lock_order: bool = False) -> Rma:
    """The RMA locked for update if `user` sees it (else NotFound) and may `perm` (else PermissionDenied;
    an Automation: the organization's RMA). `lock_order`: lock the order row first (the lock order of
    returns.refunds: order, then RMA), for actions that may request a refund."""
    organization_id = organization_of(user)
    if isinstance(rma_id, bool) or not isinstance(rma_id, int):
        raise NotFound(_("RMA not found"), field="rma_id")
    if lock_order:
        order_id = Rma.objects.filter(pk=rma_id, organization_id=organization_id).values_list("order_id", flat=True)
        list(Order.objects.select_for_update().filter(pk__in=order_id))
    rma = (
        Rma.objects.select_for_update(of=("self",))
        .select_related("ticket")
        .filter(pk=rma_id, organization_id=organization_id)
        .first()
    )
    if isinstance(user, Automation):
        if rma is None:
            raise NotFound(_("RMA not found"), field="rma_id")
        return rma
    check_rma_visible(user, rma)
    assert rma is not None
    check_perm(user, perm)
    return rma


# --- creation ------------------------------------------------------------------------------------


def _evidence_inputs(raw: Any, *, ticket: Ticket | None) -> list[dict[str, Any]]:
    """[{kind, value?, attachment_id?}] checked: IMEI by stdnum, photos/videos as attachments of the
    RMA's ticket (the buyer sent them in a message)."""
    if raw is None:
        return []
    if not isinstance(raw, list | tuple) or len(raw) > 50:
        raise ValidationFailed(_("evidence: a list of at most 50 items"), field="evidence")
    out = []
    for i, item in enumerate(raw):
        p = f"evidence[{i}]"
        if not isinstance(item, dict):
            raise ValidationFailed(_("%(p)s: must be an object") % {"p": p}, field=p)
        kind = item.get("kind")
        if kind not in REQUESTABLE_EVIDENCE:
            raise ValidationFailed(
                _("%(p)s.kind: one of photo, video, imei, serial_number") % {"p": p}, field=f"{p}.kind"
            )
        value = item.get("value") or ""
        attachment_id = item.get("attachment_id")
        if kind in (EvidenceKind.IMEI, EvidenceKind.SERIAL_NUMBER):
            value = check_evidence_value(kind, value, field=f"{p}.value")
            out.append({"kind": kind, "value": value, "attachment": None})
            continue
        if isinstance(attachment_id, bool) or not isinstance(attachment_id, int):
            raise ValidationFailed(
                _("%(p)s.attachment_id: a photo or video is an attachment of the ticket's messages") % {"p": p},
                field=f"{p}.attachment_id",
            )
        attachment = None
        if ticket is not None:
            attachment = Attachment.objects.filter(pk=attachment_id, message__ticket_id=ticket.pk).first()
        if attachment is None:
            raise ValidationFailed(
                _("%(p)s.attachment_id: no such attachment on the ticket") % {"p": p}, field=f"{p}.attachment_id"
            )
        wanted = "video/" if kind == EvidenceKind.VIDEO else "image/"
        if not attachment.content_type.startswith(wanted):
            raise ValidationFailed(
                _("%(p)s.attachment_id: the attachment is %(type)s, not a %(kind)s")
                % {"p": p, "type": attachment.content_type, "kind": kind},
                field=f"{p}.attachment_id",
            )
        out.append({"kind": kind, "value": "", "attachment": attachment})
    return out


def check_evidence_value(kind: str, value: Any, *, field: str) -> str:
    """An IMEI (15 digits, Luhn checked by python-stdnum) or a serial number (one line, 3-80 chars)."""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s: must be text") % {"field": field}, field=field)
    if kind == EvidenceKind.IMEI:
        from stdnum import imei

        try:
            return str(imei.validate(value))
        except Exception:
            raise ValidationFailed(_("%(field)s: not a valid IMEI") % {"field": field}, field=field) from None
    value = check_text(value, field=field, max_length=80, required=True, one_line=True).strip()
    if len(value) < 3:
        raise ValidationFailed(
            _("%(field)s: a serial number has at least 3 characters") % {"field": field}, field=field
        )
    return value


def rma_open(
    *,
    organization_id: int,
    actor: Actor,
    order_id: Any,
    lines: Any,
    reason: Any,
    comment: str = "",
    evidence: Any = None,
    ticket: Ticket | None = None,
    return_request: ReturnRequest | None = None,
    requested_at: datetime | None = None,
    strict: bool = True,
    extra_discrepancies: tuple[Discrepancy, ...] = (),
) -> Rma:
    """The actor-based core of RMA creation (an agent, the marketplace's connector, the customer):
    runs the automatic checks (returns.checks), numbers the RMA, writes it with its lines, evidence,
    decision and discrepancies, and moves it where the checks say (requested, under_review,
    needs_evidence, or approved when the policy grants a returnless refund and nothing is off).
    `extra_discrepancies` (found by the caller) send it to review too.
    One transaction; bad input writes nothing. Publishes RmaRequested."""
    parsed = parse_lines(lines)
    comment = check_text(comment or "", field="comment", max_length=4000)
    evidence_items = _evidence_inputs(evidence, ticket=ticket)
    requested_at = requested_at or now()
    with transaction.atomic():
        checks = check_rma_request(
            organization_id=organization_id,
            order_id=order_id,
            lines=parsed,
            reason=reason,
            evidence_kinds=frozenset(e["kind"] for e in evidence_items),
            requested_at=requested_at,
            strict=strict,
        )
        order = checks.order
        if ticket is None:
            ticket = (
                Ticket.objects.filter(organization_id=organization_id, order_id=order.pk, merged_into__isnull=True)
                .order_by("-created_at")
                .first()
            )
        language = (ticket.language if ticket is not None else "") or (
            order.customer.preferred_language if order.customer is not None else ""
        )
        rma = Rma.objects.create(
            organization_id=organization_id,
            store_id=order.store_id,
            number=rma_number_next(organization_id=organization_id, at=requested_at),
            order=order,
            customer=order.customer,
            ticket=ticket,
            return_request=return_request,
            status=S.REQUESTED,
            resolution=checks.resolution if checks.resolution != RmaResolution.PARTIAL_REFUND else "",
            reason=reason.strip(),
            buyer_comment=comment,
            buyer_language=language or order.store.default_language or "en",
            delivery_country=str(order.ship_country or ""),
            requested_at=requested_at,
            decision=checks.decision,
            policy_version=checks.policy_version,
            discrepancies=[d.as_json() for d in (*checks.discrepancies, *extra_discrepancies)],
            restocking_fee_percent=checks.restocking_fee_percent,
            return_shipping_paid_by=checks.return_shipping_paid_by,
            platform_sync=PlatformSync.NOT_NEEDED,
        )
        RmaLine.objects.bulk_create(
            [
                RmaLine(
                    rma=rma,
                    order_line=line.order_line,
                    sku=line.order_line.sku,
                    quantity=line.quantity,
                    unit_price_amount=line.order_line.unit_price_amount,
                    currency=line.order_line.currency,
                    reason=line.reason,
                )
                for line in checks.lines
            ]
        )
        at = now()
        for item in evidence_items:
            RmaEvidence.objects.create(
                rma=rma,
                kind=item["kind"],
                value=item["value"],
                attachment=item["attachment"],
                actor_kind=actor.kind,
                actor_ref=actor.id,
                at=at,
            )
        record_event(
            rma,
            "created",
            actor,
            number=rma.number,
            order=order.external_id,
            lines=[
                {"order_line_id": x.order_line.pk, "sku": x.order_line.sku, "quantity": x.quantity}
                for x in checks.lines
            ],
            reason=rma.reason,
            return_request_id=return_request.pk if return_request is not None else None,
        )
        record_event(
            rma,
            "checked",
            Actor.system("rma-checks"),
            proposed=checks.decision.get("resolution"),
            discrepancies=[d.code for d in (*checks.discrepancies, *extra_discrepancies)],
            policy_version=checks.policy_version,
        )
        status = S.UNDER_REVIEW if extra_discrepancies else checks.status
        if status != S.REQUESTED:
            auto = Actor.system("return-policy")
            if status == S.APPROVED:
                _approve_locked([rma], {rma.pk: RmaResolution.RETURNLESS_REFUND}, actor=auto, user=None)
            else:
                rma_transition(rma, status, actor=auto, reason=str(checks.decision.get("resolution") or ""))
        events.publish(
            RmaRequested(
                rma_id=rma.pk,
                organization_id=organization_id,
                store_id=rma.store_id,
                number=rma.number,
                status=rma.status,
                ticket_id=rma.ticket_id,
                return_request_id=rma.return_request_id,
                actor=actor,
            )
        )
    return rma


def rma_create(
    *,
    user: Any,
    order_id: Any,
    lines: Any,
    reason: Any,
    comment: str = "",
    evidence: Any = None,
    ticket_id: Any = None,
) -> Rma:
    """An agent opens an RMA (PROCESS). `lines`: [{order_line_id, quantity, reason?, sku?}];
    `evidence`: [{kind: imei|serial_number, value} | {kind: photo|video, attachment_id}] (attachments of
    the ticket's messages). The ticket, when given, must be visible to the user and be about the same
    order. Bad input: ValidationFailed naming the field, nothing written."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    ticket = None
    if ticket_id is not None:
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise ValidationFailed(_("ticket_id: must be a ticket id"), field="ticket_id")
        ticket = Ticket.objects.filter(pk=ticket_id, organization_id=organization_id).first()
        if ticket is None or not can_view_ticket(user, ticket):
            raise ValidationFailed(_("ticket_id: no such ticket"), field="ticket_id")
        if ticket.order_id is not None and ticket.order_id != order_id:
            raise ValidationFailed(_("ticket_id: the ticket is about another order"), field="ticket_id")
    elif isinstance(order_id, int) and not isinstance(order_id, bool):
        ticket, seen = _order_ticket_for(user, organization_id, order_id)
        if not seen:
            raise ValidationFailed(_("order_id: no such order"), field="order_id")
    return rma_open(
        organization_id=organization_id,
        actor=Actor.user(user),
        order_id=order_id,
        lines=lines,
        reason=reason,
        comment=comment,
        evidence=evidence,
        ticket=ticket,
        strict=True,
    )


def _order_ticket_for(user: Any, organization_id: int, order_id: int) -> tuple[Ticket | None, bool]:
    """The order's tickets decide who may act on it: the newest one `user` sees is the RMA's ticket;
    an order whose tickets are all outside the user's scope is not theirs to return (False)."""
    tickets = list(
        Ticket.objects.filter(organization_id=organization_id, order_id=order_id, merged_into__isnull=True)
        .select_related("organization")
        .order_by("-created_at", "-id")
    )
    visible = [t for t in tickets if can_view_ticket(user, t)]
    return (visible[0] if visible else None), bool(visible or not tickets)


# A request in one of these states on the marketplace opens no RMA (nothing is left to return there).
ENDED_ON_PLATFORM: dict[str, Any] = {
    PlatformReturnState.CANCELLED: gettext_lazy(
        "return_request_id: the buyer cancelled this return request on the marketplace; no RMA is opened"
    ),
    PlatformReturnState.CLOSED: gettext_lazy(
        "return_request_id: the marketplace closed this return request; no RMA is opened"
    ),
    PlatformReturnState.REJECTED: gettext_lazy(
        "return_request_id: this return request was declined on the marketplace; no RMA is opened"
    ),
    PlatformReturnState.COMPLETED: gettext_lazy(
        "return_request_id: this return request is already completed on the marketplace; no RMA is opened"
    ),
}


def rma_create_from_return_request(*, return_request_id: int, actor: Actor) -> Rma:
    """Open the RMA for a marketplace return request (the connector acts). Idempotent: an RMA already
    open for the request is returned. See _open_for_request."""
    return _open_for_request(return_request_id, actor=actor, user=None)


def rma_open_for_return_request(*, user: Any, return_request_id: Any) -> Rma:
    """An agent opens the RMA for a marketplace return request (PROCESS; the API's
    POST /return-requests/{id}/rma and the ticket page's button). A request of another organization,
    or on a ticket (else an order) outside the user's scope, is NotFound. A request that already has
    an RMA (not cancelled) is refused, like one that ended on the marketplace: ValidationFailed naming
    return_request_id, nothing written. Otherwise the same RMA as the connector's path."""
    if isinstance(return_request_id, bool) or not isinstance(return_request_id, int):
        raise NotFound(_("return request not found"), field="return_request_id")
    return _open_for_request(return_request_id, actor=Actor.user(user), user=user)


def _check_request_visible(user: Any, request: ReturnRequest | None) -> ReturnRequest:
    if request is None or request.organization_id != organization_of(user):
        raise NotFound(_("return request not found"), field="return_request_id")
    if request.ticket_id is not None:
        ticket = Ticket.objects.select_related("organization").filter(pk=request.ticket_id).first()
        seen = ticket is not None and can_view_ticket(user, ticket)
    elif request.order_id is not None:
        seen = _order_ticket_for(user, request.organization_id, request.order_id)[1]
    else:
        seen = True
    if not seen:
        raise NotFound(_("return request not found"), field="return_request_id")
    check_perm(user, Permission.PROCESS)
    return request


def _open_for_request(return_request_id: int, *, actor: Actor, user: Any) -> Rma:
    """The one path from a marketplace return request to its RMA (the connector's, `user` None, and an
    agent's). One transaction holding the request's row lock, so two clicks (or a click and the sync)
    open one RMA: the second sees the first's. A request already cancelled, closed, declined or
    completed on the marketplace opens none: ValidationFailed naming return_request_id, nothing
    written. Lines come from the request's lines matched to the order; what does not fit the order
    becomes a discrepancy for the agent (lenient checks)."""
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update(of=("self",)).filter(pk=return_request_id).first()
        if user is not None:
            request = _check_request_visible(user, request)
        if request is None:
            raise NotFound(_("return request not found"), field="return_request_id")
        existing = Rma.objects.filter(return_request_id=request.pk).exclude(status=S.CANCELLED).first()
        if existing is not None:
            if user is None:
                return existing
            raise ValidationFailed(
                _("return_request_id: RMA %(number)s is already open for this return request")
                % {"number": existing.number},
                field="return_request_id",
            )
        if request.platform_state in ENDED_ON_PLATFORM:
            raise ValidationFailed(str(ENDED_ON_PLATFORM[request.platform_state]), field="return_request_id")
        if request.order_id is None:
            raise ValidationFailed(
                _("order_id: the marketplace's request is not linked to a known order"), field="order_id"
            )
        lines = _request_lines(request)
        from .policy_store import active_compiled_policy

        _version, policy = active_compiled_policy(request.organization_id)
        reason = request.reason
        extra: tuple[Discrepancy, ...] = ()
        if reason not in policy.reasons:
            reason = next(iter(policy.reasons))
            extra = (
                Discrepancy(
                    "reason_unknown",
                    "reason",
                    _("The marketplace's reason %(reason)s is not in the return policy; %(used)s was assumed.")
                    % {"reason": request.reason or "-", "used": reason},
                ),
            )
        return rma_open(
            organization_id=request.organization_id,
            actor=actor,
            order_id=request.order_id,
            lines=lines,
            reason=reason,
            comment=request.buyer_comment[:4000],
            ticket=request.ticket,
            return_request=request,
            requested_at=request.created_on_platform,
            strict=False,
            extra_discrepancies=extra,
        )


def _request_lines(request: ReturnRequest) -> list[dict[str, Any]]:
    """The request's lines matched to order lines, one per order line (quantities added); a request
    naming no known line returns the whole order."""
    merged: dict[int, dict[str, Any]] = {}
    for line in request.lines.all():
        if line.order_line_id is None:
            continue
        if line.order_line_id in merged:
            merged[line.order_line_id]["quantity"] += line.quantity
        else:
            merged[line.order_line_id] = {
                "order_line_id": line.order_line_id,
                "quantity": line.quantity,
                "sku": line.sku,
            }
    if not merged and request.order is not None:
        merged = {
            ol.pk: {"order_line_id": ol.pk, "quantity": ol.quantity, "sku": ol.sku} for ol in request.order.lines.all()
        }
    return list(merged.values())


# --- decisions -----------------------------------------------------------------------------------


def pick_return_warehouse(rma: Rma, hubs: Sequence[Any] | None = None) -> Any:
    """The active return hub serving the delivery country, else one serving anywhere (no countries),
    else any active return hub, else None. `hubs`: the organization's active return hubs in id order,
    when the caller loaded them already (one query for many RMAs)."""
    if hubs is None:
        hubs = _return_hubs(rma.organization_id)
    country = (rma.delivery_country or "").upper()
    for hub in hubs:
        if country and country in [str(c).upper() for c in hub.serves_countries or []]:
            return hub
    for hub in hubs:
        if not hub.serves_countries:
            return hub
    return hubs[0] if hubs else None


def _return_hubs(organization_id: int) -> list[Any]:
    from aftersales.inventory.models import Warehouse

    return list(
        Warehouse.objects.filter(organization_id=organization_id, is_return_hub=True, is_active=True).order_by("pk")
    )


def _approve_locked(
    rmas: Sequence[Rma], resolutions: dict[int, str], *, actor: Actor, user: Any, warehouse: Any = None
) -> None:
    """Approve the locked `rmas` (each with its resolution in `resolutions`; every move already
    checked against the table): the return warehouse (`warehouse`, else the hub picked for the
    buyer's country), the marketplace sync flag, then one grouped UPDATE per distinct set of values,
    one `rma_transition_batch`. A returnless refund also requests its refund and resolves the RMA."""
    hubs: list[Any] | None = None
    groups: dict[tuple[str, int | None, str], list[int]] = {}
    no_hub: list[Rma] = []
    moves: list[tuple[Rma, dict[str, Any]]] = []
    for rma in rmas:
        rma.resolution = resolutions[rma.pk]
        if rma.resolution in PHYSICAL_RETURN:
            if warehouse is None and hubs is None:
                hubs = _return_hubs(rma.organization_id)
            rma.return_warehouse = warehouse if warehouse is not None else pick_return_warehouse(rma, hubs)
            if rma.return_warehouse is None:
                rma.discrepancies = [
                    *[d for d in rma.discrepancies if d.get("code") != "no_return_warehouse"],
                    {
                        "code": "no_return_warehouse",
                        "field": "return_warehouse",
                        "message": _("No active return hub: add a warehouse marked as a return hub."),
                    },
                ]
                no_hub.append(rma)
        fields: list[str] = []
        _mark_sync_needed(rma, fields)
        groups.setdefault((rma.resolution, rma.return_warehouse_id, rma.platform_sync), []).append(rma.pk)
        moves.append((rma, {"resolution": rma.resolution, "warehouse_id": rma.return_warehouse_id}))
    for (resolution, warehouse_id, sync), ids in groups.items():
        changes: dict[str, Any] = {"resolution": resolution, "return_warehouse_id": warehouse_id}
        if sync == PlatformSync.SYNCING:
            changes.update(platform_sync=sync, platform_sync_detail="")
        Rma.objects.filter(pk__in=ids).update(**changes)
    if no_hub:
        Rma.objects.bulk_update(no_hub, ["discrepancies"])
    rma_transition_batch(moves, S.APPROVED, actor=actor)
    for rma in rmas:
        if rma.resolution == RmaResolution.RETURNLESS_REFUND:
            # Nothing comes back: the refund is requested now (its own approval limits apply) and the
            # RMA is resolved; the refund's progress shows on the RMA.
            _request_refund(rma, actor=actor, user=user, percent=Decimal(100))
            _resolve_locked(rma, "refunded", actor=actor)


def _mark_sync_needed(rma: Rma, fields: list[str]) -> None:
    """An RMA from a marketplace request: the decision must reach the marketplace (the write-back task
    sets syncing/synced, or pending_sync when the store's connector cannot decide returns)."""
    if rma.return_request_id is not None:
        rma.platform_sync = PlatformSync.SYNCING
        rma.platform_sync_detail = ""
        fields.extend(["platform_sync", "platform_sync_detail"])


def rma_approve(*, user: Any, rma_id: Any, resolution: Any = None, warehouse_id: Any = None) -> Rma:
    """Approve one RMA (APPROVE): `rma_approve_many` with this one id; its error is raised."""
    if isinstance(rma_id, bool) or not isinstance(rma_id, int):
        organization_of(user)
        raise NotFound(_("RMA not found"), field="rma_id")
    outcome = rma_approve_many(user=user, rma_ids=[rma_id], resolution=resolution, warehouse_id=warehouse_id)[rma_id]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def rma_approve_many(
    *, user: Any, rma_ids: Sequence[int], resolution: Any = None, warehouse_id: Any = None
) -> dict[int, Rma | DomainError]:
    """Approve RMAs (APPROVE), the one approval service (`rma_approve` is this with one id): the
    resolution is the one given or the one each RMA's policy decision proposed (a return and refund
    when it proposed nothing); the return warehouse is the one given or picked for the buyer's country
    (pick_return_warehouse). Bad parameters raise ValidationFailed before anything is read.

    One transaction: the orders, then the RMAs, are locked in id order, one query each (the lock order
    of returns.refunds); each RMA's move is checked against the table in Python; the approvals are
    written in a few statements whatever their number (grouped UPDATEs, one INSERT of the events) and
    their notifications and write-backs go out as one batch after commit. A returnless refund also
    requests its refund, in its own savepoint. Returns, per id, the approved RMA or the error that
    kept it as it was (NotFound when the user does not see it, PermissionDenied, Conflict)."""
    if resolution is not None and resolution not in RmaResolution.values:
        raise ValidationFailed(
            _("resolution: one of %(choices)s") % {"choices": ", ".join(RmaResolution.values)}, field="resolution"
        )
    if warehouse_id is not None and (isinstance(warehouse_id, bool) or not isinstance(warehouse_id, int)):
        raise ValidationFailed(_("warehouse_id: must be a warehouse id"), field="warehouse_id")
    if resolution == RmaResolution.PARTIAL_REFUND:
        raise ValidationFailed(
            _("resolution: offer a partial refund with the offer-partial action"), field="resolution"
        )
    organization_id = organization_of(user)
    ids = list(dict.fromkeys(rma_ids))
    out: dict[int, Rma | DomainError] = {i: NotFound(_("RMA not found"), field="rma_id") for i in ids}
    try:
        if not isinstance(user, Automation):
            check_perm(user, Permission.APPROVE)
    except PermissionDenied as denied:
        for rma in Rma.objects.select_related("ticket").filter(pk__in=ids, organization_id=organization_id):
            if can_view_rma(user, rma):
                out[rma.pk] = denied
        return out
    with transaction.atomic():
        order_ids = Rma.objects.filter(pk__in=ids, organization_id=organization_id).values("order_id")
        list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk").values_list("pk", flat=True))
        locked = list(
            Rma.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(pk__in=ids, organization_id=organization_id)
            .order_by("pk")
        )
        warehouse = None
        if warehouse_id is not None:
            from aftersales.inventory.models import Warehouse

            warehouse = Warehouse.objects.filter(
                pk=warehouse_id, organization_id=organization_id, is_active=True
            ).first()
            if warehouse is None:
                raise ValidationFailed(_("warehouse_id: no such active warehouse"), field="warehouse_id")
        visible = {rma.pk for rma in locked} if isinstance(user, Automation) else _visible_ids(user, locked)
        lean: list[Rma] = []
        returnless: list[Rma] = []
        resolutions: dict[int, str] = {}
        for rma in locked:
            if rma.pk not in visible:
                continue
            chosen = resolution or rma.resolution or RmaResolution.RETURN_AND_REFUND
            if chosen == RmaResolution.PARTIAL_REFUND:
                chosen = RmaResolution.RETURN_AND_REFUND
            try:
                check_rma_transition(rma.status, S.APPROVED)
            except DomainError as exc:
                out[rma.pk] = exc
                continue
            resolutions[rma.pk] = chosen
            (returnless if chosen == RmaResolution.RETURNLESS_REFUND else lean).append(rma)
        actor = actor_of(user)
        if lean:
            _approve_locked(lean, resolutions, actor=actor, user=user, warehouse=warehouse)
            out.update({rma.pk: rma for rma in lean})
        for rma in returnless:  # each requests a refund, which may refuse: its own savepoint
            try:
                with transaction.atomic():
                    _approve_locked([rma], resolutions, actor=actor, user=user, warehouse=warehouse)
            except DomainError as exc:
                out[rma.pk] = exc
            else:
                out[rma.pk] = rma
    return out


def _visible_ids(user: Any, rmas: Sequence[Rma]) -> set[int]:
    """The ids of `rmas` (the user's organization's) that `user` sees: one query for a scoped user."""
    if not rmas or not has_perm(user, Permission.VIEW):
        return set()
    if is_admin(user):
        return {rma.pk for rma in rmas}
    with_ticket = [rma.pk for rma in rmas if rma.ticket_id is not None]
    seen = set(Rma.objects.filter(rma_scope_q(user), pk__in=with_ticket).values_list("pk", flat=True))
    return seen | {rma.pk for rma in rmas if rma.ticket_id is None}


def rma_reject(*, user: Any, rma_id: Any, reason: Any) -> Rma:
    """Reject (APPROVE) with the reason told to the buyer. Locks the RMA row."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(_("reason: say why the return is rejected"), field="reason")
    reason = check_text(reason, field="reason", max_length=1000).strip()
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.APPROVE)
        check_rma_transition(rma.status, S.REJECTED)
        fields: list[str] = []
        _mark_sync_needed(rma, fields)
        if fields:
            rma.save(update_fields=[*fields, "updated_at"])
        rma_transition(rma, S.REJECTED, actor=actor_of(user), reason=reason)
    return rma


def rma_request_evidence(*, user: Any, rma_id: Any, kinds: Any, message: Any = "") -> Rma:
    """Ask the buyer for evidence (PROCESS): `kinds` among photo, video, imei, serial_number. Moves the
    RMA to needs_evidence (or keeps it there) and records what was asked. Locks the RMA row."""
    if not isinstance(kinds, list | tuple) or not kinds:
        raise ValidationFailed(_("kinds: name at least one kind of evidence"), field="kinds")
    clean: list[str] = []
    for i, kind in enumerate(kinds):
        kind = EVIDENCE_FROM_POLICY.get(kind, kind) if isinstance(kind, str) else kind
        if kind not in REQUESTABLE_EVIDENCE:
            raise ValidationFailed(
                _("kinds[%(i)s]: one of photo, video, imei, serial_number") % {"i": i}, field=f"kinds[{i}]"
            )
        if kind not in clean:
            clean.append(kind)
    if not isinstance(message, str):
        raise ValidationFailed(_("message: must be text"), field="message")
    message = check_text(message, field="message", max_length=2000).strip()
    with transaction.atomic():
        rma = _lock(user, rma_id, Permission.PROCESS)
        actor = actor_of(user)
        if rma.status != S.NEEDS_EVIDENCE:
            check_rma_transition(rma.status, S.NEEDS_EVIDENCE)
        record_event(rma, "evidence_requested", actor, kinds=clean, message=message)
        rma_transition(rma, S.NEEDS_EVIDENCE, actor=actor, reason="evidence_requested")
        events.publish(
            RmaEvidenceRequested(
                rma_id=rma.pk,
                organization_id=rma.organization_id,
                kinds=tuple(clean),
                message=message,
                ticket_id=rma.ticket_id,
                actor=actor,
            )
        )
    return rma


# --- refunds (returns.refunds owns them) ---------------------------------------------------------


def rma_refund_amount(rma: Rma, *, percent: Decimal) -> tuple[Decimal, str, list[dict[str, Any]]]:
    """What the buyer gets back for the RMA's lines: `percent` of the lines' value, less the
    restocking fee for a return (not for a returnless refund or a partial-refund offer)."""
    lines = list(rma.lines.all())
    if not lines:
        raise Conflict(_("the RMA has no lines"))
    currency = lines[0].currency
    fee = rma.restocking_fee_percent if rma.resolution == RmaResolution.RETURN_AND_REFUND else Decimal(0)
    factor = percent / Decimal(100) * (Decimal(100) - fee) / Decimal(100)
    out = []
    total = Decimal(0)
    for line in lines:
        amount = (line.unit_price_amount * line.quantity * factor).quantize(CENT, rounding=ROUND_HALF_UP)
        total += amount
        out.append({"order_line_id": line.order_line_id, "quantity": line.quantity, "amount": str(amount)})
    return total, currency, out


def _request_refund(rma: Rma, *, actor: Actor, user: Any, percent: Decimal, exact_amount: Decimal | None = None) -> Any:
    """Hand the refund to returns.refunds (key rma:<id>:refund: requested once, whoever asks again).
    `exact_amount` (an accepted offer): that amount, spread over the RMA's lines by returns.refunds."""
    from . import refunds

    automation = user if isinstance(user, Automation) else None
    limit = automation.approval_limit if automation else None
    user = None if automation else user
    amount, currency, lines = rma_refund_amount(rma, percent=percent)
    if exact_amount is not None:
        refund = refunds.refund_request(
            user=user,
            actor=actor,
            organization_id=None if user is not None else rma.organization_id,
            actor_limit=limit,
            order_id=rma.order_id,
            rma_id=rma.pk,
            kind="partial",
            amount=str(exact_amount),
            currency=currency,
            reason=_("RMA %(number)s") % {"number": rma.number},
            idempotency_key=f"rma:{rma.pk}:refund",
        )
        record_event(rma, "refund_requested", actor, refund_id=refund.pk, amount=str(exact_amount), currency=currency)
        return refund
    if amount <= 0:
        return None
    full = percent >= 100 and not (rma.resolution == RmaResolution.RETURN_AND_REFUND and rma.restocking_fee_percent > 0)
    # A full refund of the RMA's lines: returns.refunds allocates them; otherwise the lines' amounts.
    refund = refunds.refund_request(
        user=user,
        actor=actor,
        organization_id=None if user is not None else rma.organization_id,
        actor_limit=limit,
        order_id=rma.order_id,
        rma_id=rma.pk,
        kind="full" if full else "partial",
        amount=None if full else str(amount),
        currency=currency,
        lines=None if full else lines,
        reason=_("RMA %(number)s") % {"number": rma.number},
        idempotency_key=f"rma:{rma.pk}:refund",
    )
    record_event(
        rma, "refund_requested", actor, refund_id=getattr(refund, "pk", None), amount=str(amount), currency=currency
    )
    return refund


def _resolve_locked(rma: Rma, outcome: str, *, actor: Actor, reason: str = "") -> None:
    rma.outcome = outcome
    rma.save(update_fields=["outcome", "updated_at"])
    rma_transition(rma, S.RESOLVED, actor=actor, reason=reason, outcome=outcome)


def _evidence_added(rma: Rma, evidence: RmaEvidence, actor: Actor) -> None:
    record_event(rma, "evidence_added", actor, kind=evidence.kind, evidence_id=evidence.pk, value=evidence.value)
    events.publish(
        RmaEvidenceAdded(
            rma_id=rma.pk,
            organization_id=rma.organization_id,
            evidence_id=evidence.pk,
            kind=evidence.kind,
            actor=actor,
        )
    )
