"""Sold units, claims, repair orders, replacements and terms through the services."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.warranty.models import (
    ReplacementRequest,
    SoldUnit,
    WarrantyClaim,
    WarrantyClaimEvent,
    WarrantyTerm,
)
from aftersales.warranty.selectors import claim_get, unit_lookup
from aftersales.warranty.services import (
    UnitInput,
    claim_change_status,
    claim_open,
    claim_resolve,
    repair_advance,
    term_delete,
    term_save,
    units_register,
)

from .conftest import DELIVERED, OTHER_IMEI, VALID_IMEI

pytestmark = pytest.mark.django_db
IN_TIME = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
LATE = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def register(world, stock, imei=VALID_IMEI, **kwargs):
    return units_register(user=world.agent, rows=[UnitInput(imei=imei, order_line_id=stock.line.pk, **kwargs)])[0]


def test_a_unit_from_an_order_line_takes_the_order_facts(world, stock):
    unit = register(world, stock, imei="49-015420-323751-8", serial_number="sn-0001")
    assert (unit.imei, unit.serial_number) == (VALID_IMEI, "SN0001")
    assert unit.product == stock.phone and unit.order == stock.line.order and unit.customer is not None
    assert unit.delivered_at == DELIVERED and str(unit.delivery_country) == "DE"
    assert unit.warranty_ends_on == date(2027, 3, 2)  # 12 months, product default


def test_bulk_import_is_all_or_nothing_and_names_the_row(world, stock):
    rows = [
        UnitInput(imei=VALID_IMEI, sku="PH-1", sold_at=IN_TIME),
        UnitInput(imei="490154203237519", sku="PH-1", sold_at=IN_TIME),
    ]
    with pytest.raises(ValidationFailed) as caught:
        units_register(user=world.agent, rows=rows)
    assert caught.value.field == "units[1].imei" and "Luhn" in caught.value.message
    with pytest.raises(ValidationFailed) as caught:
        units_register(user=world.agent, rows=[UnitInput(serial_number="A1", sku="NOPE", sold_at=IN_TIME), rows[0]])
    assert caught.value.field == "units[0].sku"
    with pytest.raises(ValidationFailed) as caught:
        units_register(user=world.agent, rows=[rows[0], UnitInput(imei=VALID_IMEI, sku="PH-1", sold_at=IN_TIME)])
    assert caught.value.field == "units[1].imei"
    with pytest.raises(ValidationFailed) as caught:
        units_register(user=world.agent, rows=[UnitInput(serial_number="A1", sku="PH-1")])
    assert caught.value.field == "sold_at"
    with pytest.raises(ValidationFailed) as caught:
        units_register(
            user=world.agent, rows=[UnitInput(serial_number="A1", sku="PH-1", sold_at=datetime(1999, 1, 1, tzinfo=UTC))]
        )
    assert caught.value.field == "sold_at"
    assert SoldUnit.objects.count() == 0
    units = units_register(
        user=world.agent, rows=[rows[0], UnitInput(serial_number="A-1", sku="PH-1", sold_at=IN_TIME)]
    )
    assert len(units) == 2


def test_duplicates_and_quantities(world, stock):
    register(world, stock)
    with pytest.raises(Conflict) as caught:
        units_register(user=world.agent, rows=[UnitInput(imei=VALID_IMEI, sku="PH-1", sold_at=IN_TIME)])
    assert caught.value.field == "imei"
    register(world, stock, imei=OTHER_IMEI)
    with pytest.raises(ValidationFailed) as caught:
        register(world, stock, imei="", serial_number="S3")
    assert caught.value.field == "order_line_id"  # the line sold 2 units
    with pytest.raises(ValidationFailed) as caught:
        units_register(user=world.agent, rows=[UnitInput(serial_number="S4", order_line_id=stock.line.pk, sku="OTHER")])
    assert caught.value.field == "sku"


def test_registering_needs_process_and_the_own_organization(world, stock):
    with pytest.raises(PermissionDenied):
        units_register(user=world.viewer, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk)])
    with pytest.raises(NotFound) as caught:
        units_register(user=world.foreign_user, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk)])
    assert caught.value.field == "order_line_id"


def test_lookup_by_imei_or_serial(world, stock):
    unit = register(world, stock, serial_number="C02XK12AB")
    found = unit_lookup(world.viewer, "49 015420 323751 8", at=IN_TIME)
    assert found.unit == unit and found.status.in_warranty and found.status.days_left == 121
    assert unit_lookup(world.viewer, "c02-xk1 2ab", at=IN_TIME).unit == unit
    with pytest.raises(ValidationFailed) as caught:
        unit_lookup(world.viewer, "490154203237519")
    assert "Luhn" in caught.value.message and caught.value.field == "q"
    with pytest.raises(NotFound):
        unit_lookup(world.foreign_user, VALID_IMEI)


def test_terms_vip_longer_and_units_refreshed(world, stock):
    unit = register(world, stock)
    term_save(user=world.admin, category="phones", region="EU", months=24)
    unit.refresh_from_db()
    assert unit.warranty_ends_on == date(2028, 3, 2)
    vip_stock = make_phone_line_for_vip(world)
    vip_unit = register(world, vip_stock, imei=OTHER_IMEI)
    term_save(user=world.admin, category="phones", customer_tier="vip", months=36)
    vip_unit.refresh_from_db()
    unit.refresh_from_db()
    assert vip_unit.warranty_ends_on == date(2029, 3, 2) and unit.warranty_ends_on == date(2028, 3, 2)
    with pytest.raises(Conflict):
        term_save(user=world.admin, category="phones", region="eu", months=12)
    with pytest.raises(ValidationFailed) as caught:
        term_save(user=world.admin, region="XX", months=12)
    assert caught.value.field == "region"
    with pytest.raises(ValidationFailed) as caught:
        term_save(user=world.admin, months=0)
    assert caught.value.field == "months"
    with pytest.raises(PermissionDenied):
        term_save(user=world.approver, months=12)
    term = WarrantyTerm.objects.get(customer_tier="vip")
    with pytest.raises(NotFound):
        term_delete(user=world.foreign_user, term_id=term.pk)
    term_delete(user=world.admin, term_id=term.pk)
    vip_unit.refresh_from_db()
    assert vip_unit.warranty_ends_on == date(2028, 3, 2)


def make_phone_line_for_vip(world):
    from aftersales.catalog.models import Product
    from aftersales.testing.factories import OrderFactory, OrderLineFactory, ShipmentFactory

    phone = Product.objects.get(organization=world.org, sku="PH-1")
    order = OrderFactory(store=world.store_de, placed_at=datetime(2026, 2, 27, tzinfo=UTC), ship_country="AT")
    order.customer.tier = "vip"
    order.customer.save()
    line = OrderLineFactory(order=order, product=phone, sku="PH-1", quantity=1)
    ShipmentFactory(order=order, status="delivered", delivered_at=DELIVERED)
    from .conftest import Stock

    return Stock(phone=phone, line=line)


def test_claim_in_warranty_through_repair_to_closed(world, stock, published, django_capture_on_commit_callbacks):
    unit = register(world, stock)
    ticket = world.ticket()  # a US ticket: alice sees it (a DE one would be not found)
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_open(
            user=world.agent, unit_id=unit.pk, problem="Screen flickers", claimed_at=IN_TIME, ticket_id=ticket.pk
        )
        assert claim.status == "submitted" and claim.in_warranty and claim.days_left == 121
        with pytest.raises(Conflict):
            claim_open(user=world.agent, unit_id=unit.pk, problem="again", claimed_at=IN_TIME)
        claim_change_status(user=world.agent, claim_id=claim.pk, status="under_review")
        with pytest.raises(PermissionDenied):
            claim_change_status(user=world.agent, claim_id=claim.pk, status="approved")
        claim_change_status(user=world.approver, claim_id=claim.pk, status="approved", reason="defect confirmed")
        resolution = claim_resolve(user=world.agent, claim_id=claim.pk, resolution="repair")
        repair = resolution.repair_order
        assert repair is not None and repair.status == "awaiting_unit"
        with pytest.raises(Conflict):
            repair_advance(user=world.agent, repair_id=repair.pk, status="repairing")
        for status in ("received", "diagnosing", "repairing"):
            repair_advance(
                user=world.agent,
                repair_id=repair.pk,
                status=status,
                diagnosis="display cable" if status == "repairing" else None,
            )
        with pytest.raises(ValidationFailed) as caught:
            repair_advance(user=world.agent, repair_id=repair.pk, status="shipped_back")
        assert caught.value.field == "tracking_number"
        repair_advance(
            user=world.agent, repair_id=repair.pk, status="shipped_back", carrier="DHL", tracking_number="JD0001"
        )
        repair_advance(user=world.agent, repair_id=repair.pk, status="closed")
    claim.refresh_from_db()
    repair.refresh_from_db()
    assert claim.status == "closed" and repair.status == "closed" and repair.return_tracking_number == "JD0001"
    view = claim_get(world.viewer, claim.pk)
    assert [e.type for e in view.events] == [
        "created",
        "status_changed",
        "status_changed",
        "repair_order_created",
        "status_changed",
        "status_changed",
        "customer_notified",  # the unit received (warranty.notify)
        "customer_notified",  # the unit shipped back
    ]
    assert all(e.actor_kind == "user" and e.actor_ref for e in view.events)
    assert view.events[2].actor == world.approver
    assert [e.payload.get("new") for e in view.repairs[0].events] == [
        None,
        "received",
        "diagnosing",
        "repairing",
        "shipped_back",
        "closed",
    ]
    names = [type(e).__name__ for e in published]
    assert names.count("WarrantyClaimCreated") == 1
    assert names.count("WarrantyClaimStatusChanged") == 4
    assert names.count("RepairOrderStatusChanged") == 5


def test_out_of_warranty_needs_an_approver_with_a_reason(world, stock):
    unit = register(
        world, stock, sold_at=datetime(2025, 2, 27, tzinfo=UTC), delivered_at=datetime(2025, 3, 2, 9, tzinfo=UTC)
    )
    with pytest.raises(Conflict) as caught:
        claim_open(user=world.agent, unit_id=unit.pk, problem="Dead", claimed_at=LATE)
    assert caught.value.code == "out_of_warranty" and caught.value.field == "override_reason"
    with pytest.raises(PermissionDenied):
        claim_open(user=world.agent, unit_id=unit.pk, problem="Dead", claimed_at=LATE, override_reason="goodwill")
    claim = claim_open(
        user=world.approver, unit_id=unit.pk, problem="Dead", claimed_at=LATE, override_reason="goodwill"
    )
    assert not claim.in_warranty and claim.override_reason == "goodwill" and claim.days_left == -30
    assert WarrantyClaimEvent.objects.get(claim=claim, type="created").payload["override_reason"] == "goodwill"


def test_cancelled_repair_sends_the_claim_back_then_replacement(world, stock):
    unit = register(world, stock)
    claim = claim_open(user=world.agent, unit_id=unit.pk, problem="Battery", claimed_at=IN_TIME)
    claim_change_status(user=world.agent, claim_id=claim.pk, status="under_review")
    claim_change_status(user=world.approver, claim_id=claim.pk, status="approved")
    repair = claim_resolve(user=world.agent, claim_id=claim.pk, resolution="repair").repair_order
    with pytest.raises(ValidationFailed):
        repair_advance(user=world.agent, repair_id=repair.pk, status="cancelled")
    repair_advance(user=world.agent, repair_id=repair.pk, status="cancelled", reason="beyond repair")
    claim.refresh_from_db()
    assert claim.status == "approved"
    with pytest.raises(Conflict):  # a claim in repair closes through its repair order only
        claim_change_status(user=world.agent, claim_id=claim.pk, status="closed")
    result = claim_resolve(user=world.agent, claim_id=claim.pk, resolution="replacement")
    assert result.claim.status == "replacement" and result.replacement is not None
    pending = ReplacementRequest.objects.get(claim=claim)
    assert pending.fulfilled_at is None and pending.product == stock.phone
    claim_change_status(user=world.agent, claim_id=claim.pk, status="closed")
    claim.refresh_from_db()
    assert claim.status == "closed"
    claim2 = None
    with pytest.raises(Conflict):
        claim_resolve(user=world.agent, claim_id=claim.pk, resolution="repair")
    assert claim2 is None


def test_rejection_needs_a_reason_and_bad_status_is_422(world, stock):
    unit = register(world, stock)
    claim = claim_open(user=world.agent, unit_id=unit.pk, problem="Scratch", claimed_at=IN_TIME)
    with pytest.raises(ValidationFailed) as caught:
        claim_change_status(user=world.agent, claim_id=claim.pk, status="flying")
    assert caught.value.field == "status"
    claim_change_status(user=world.agent, claim_id=claim.pk, status="under_review")
    with pytest.raises(ValidationFailed) as caught:
        claim_change_status(user=world.approver, claim_id=claim.pk, status="rejected")
    assert caught.value.field == "reason"
    claim_change_status(user=world.approver, claim_id=claim.pk, status="rejected", reason="cosmetic damage")
    with pytest.raises(NotFound):
        claim_change_status(user=world.foreign_user, claim_id=claim.pk, status="cancelled", reason="x")
    with pytest.raises(Conflict):
        claim_change_status(user=world.admin, claim_id=claim.pk, status="under_review")
    # a new claim on the unit is possible once the first is final
    assert claim_open(user=world.agent, unit_id=unit.pk, problem="Other", claimed_at=IN_TIME).pk != claim.pk
    assert WarrantyClaim.objects.filter(unit=unit).count() == 2
