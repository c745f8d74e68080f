"""Customer notifications of a warranty claim (issue 10, section 7): the replacement shipped (carrier,
tracking number, tracking link), the unit for repair received, the repaired unit shipped back (its
return parcel's carrier and tracking). Sent through the RMA notifications' one path
(returns.notify.notice_send: the organization's reply template in the buyer's language, the step's
switch in returns.notify_settings, the author rules, the reply's idempotency key
`warranty-<claim id>-<step>-<event id>`), recorded on the claim's timeline as `customer_notified` /
`notification_skipped`. The repair order has no separate "repaired" status (repairing -> shipped back;
diagnosing -> shipped back when no fault was found): "shipped back" is the message that it is done."""

from __future__ import annotations

from datetime import date

from aftersales.core.actors import Actor
from aftersales.language.languages import is_rtl, normalise
from aftersales.language.templates import CustomerVars, OrderVars, ProductVars, TemplateContext, WarrantyVars
from aftersales.returns.notify import Notice, notice_send

from .models import RepairOrder, ReplacementRequest, SoldUnit, WarrantyClaim
from .transition import claim_record

WARRANTY_NOTIFY_ACTOR = Actor.system("warranty-notifications")
STEPS = ("replacement_shipped", "repair_received", "repair_shipped_back")


def warranty_notify_customer(*, claim_id: int, step: str, event_id: int, actor_user_id: int | None) -> str:
    """Tell the claim's buyer of `step`; `event_id` is the claim's `replacement_shipped` row or the
    repair order's `status_changed` row. Returns what returns.notify.notice_send returned."""
    claim = WarrantyClaim.objects.select_related("ticket").filter(pk=claim_id).first()
    if claim is None or step not in STEPS:
        return "unknown"
    tracking: tuple[str, str] | None = None
    if step == "replacement_shipped":
        replacement = ReplacementRequest.objects.filter(claim_id=claim.pk).first()
        if replacement is None or replacement.fulfilled_at is None:
            return "unknown"
        tracking = (replacement.carrier, replacement.tracking_number)
    elif step == "repair_shipped_back":
        repair = RepairOrder.objects.filter(claim_id=claim.pk, events__pk=event_id).first()
        if repair is not None:
            tracking = (repair.return_carrier, repair.return_tracking_number)
    ticket = claim.ticket
    notice = Notice(
        organization_id=claim.organization_id,
        ticket=ticket,
        step=step,
        template=step,
        language=normalise(ticket.language if ticket is not None else "") or "en",
        actor_user_id=actor_user_id,
        idempotency_key=f"warranty-{claim.pk}-{step}-{event_id}",
        for_event_id=event_id,
        tracking=tracking,
    )
    return notice_send(
        notice,
        timeline=claim.events.all(),
        record=lambda type_, actor, **data: claim_record(claim, type_, actor, **data),
        actor=WARRANTY_NOTIFY_ACTOR,
    )


# --- the expiry reminder's variables -------------------------------------------------------------

BABEL_LOCALE = {"zh": "zh_Hans", "pt": "pt_BR"}
MASK = "••••"
IMEI_SHOWN = 6  # an IMEI's last 6 digits (its serial part's end and the check digit): enough to tell units apart
SERIAL_SHOWN = 4


def masked(value: str, shown: int) -> str:
    """`value` with only its last `shown` characters kept behind a fixed mask (the length is not told);
    a value no longer than that is masked whole but for its last character."""
    value = (value or "").strip()
    if not value:
        return ""
    keep = shown if len(value) > shown else 1
    return f"{MASK}{value[-keep:]}"


def format_day(day: date, language: str) -> str:
    """`day` as the buyer's locale writes a date in full (de: 2. März 2027, ja: 2027年3月2日); an
    unknown locale: ISO 8601."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    try:
        return str(format_date(day, format="long", locale=BABEL_LOCALE.get(language, language)))
    except (UnknownLocaleError, ValueError, LookupError):
        return day.isoformat()


def reminder_context(unit: SoldUnit, *, ends_on: date, days_left: int, language: str) -> TemplateContext:
    """The variables of a warranty-expiry reminder: the buyer, the store, the order, the product (name,
    SKU), the unit's IMEI / serial number masked, the last covered day (a day in the store's time zone,
    warranty.selectors.unit_status) in the buyer's locale and the days left. In a right-to-left
    language the identifiers are isolated (U+2068 ... U+2069) so they read left to right."""
    name = unit.customer.name if unit.customer is not None else ""
    order, store, product = unit.order, unit.store, unit.product
    imei, serial, sku = masked(unit.imei, IMEI_SHOWN), masked(unit.serial_number, SERIAL_SHOWN), product.sku or ""
    if is_rtl(language):
        imei, serial, sku = (f"\u2068{v}\u2069" if v else "" for v in (imei, serial, sku))
    return TemplateContext(
        customer=CustomerVars(name, name.split()[0] if name.split() else ""),
        order=OrderVars(order.external_id, store.platform if store else "", "") if order is not None else OrderVars(),
        store_name=store.name if store is not None else "",
        product=ProductVars(product.title, sku),
        warranty=WarrantyVars(
            imei=imei, serial_number=serial, ends_on=format_day(ends_on, language), days_left=days_left
        ),
    )
