"""An agent opens the RMA for a marketplace return request (issue 10 §3, §8): one service
(returns.rma.rma_open_for_return_request, the connector's path with the agent's checks) behind
POST /api/v1/return-requests/{id}/rma and the ticket page's "Open RMA" button; the same RMA, the same
refusals (422 naming return_request_id, nothing written), the same permissions; two clicks at once on
PostgreSQL open one RMA (the request's row lock)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.core.actors import Actor
from aftersales.core.errors import ValidationFailed
from aftersales.returns.models import ReturnRequest, Rma, RmaEvent, RmaStatus
from aftersales.returns.rma import rma_create_from_return_request, rma_open_for_return_request
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert

from .rma_fixtures import delivered_order, first_line

T0 = timezone.now() - timedelta(days=1)


def _request(world: Any, *, state: str = "open", status: str = "Pending", ticket: bool = True) -> ReturnRequest:
    """A marketplace return of one line of a fresh US order, on a US-team ticket of that order."""
    store = world.store_us
    order = delivered_order(world, store=store, lines=(("home", "40.00", 2, "USD"),))
    line = first_line(order)
    data = ReturnRequestData(
        external_id=f"RR-{order.pk}",
        kind="return",
        status=status,
        platform_state=state,
        created_at=T0,
        updated_at=T0,
        order_external_id=order.external_id,
        buyer_external_id="buyer-1",
        reason="changed_mind",
        buyer_comment="Too small",
        lines=[ReturnLineData(line.sku, 1, line.external_line_id)],
    )
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    request = return_request_upsert(store=store, data=data, actor=actor).return_request
    if ticket:
        t = world.ticket(order=order, customer=order.customer)
        ReturnRequest.objects.filter(pk=request.pk).update(ticket=t)
        request.refresh_from_db()
    return request


def _shape(rma: Rma) -> tuple[Any, ...]:
    lines = [x.quantity for x in rma.lines.order_by("pk")]
    return (rma.status, rma.reason, rma.buyer_comment, rma.ticket_id is not None, lines)


def _web(client: Any, user: Any, request_id: int) -> Any:
    client.force_login(user)
    return client.post(reverse("web:return_request_rma_create", args=[request_id]))


@pytest.mark.django_db
def test_api_and_button_open_the_same_rma(world, client) -> None:
    via_api, via_web = _request(world), _request(world)
    response = ApiClient(user=world.agent).post(f"/return-requests/{via_api.pk}/rma", {})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["return_request_id"] == via_api.pk and data["status"] == "requested"
    page = _web(client, world.agent, via_web.pk)
    assert page.status_code == 302
    a = Rma.objects.get(return_request=via_api)
    b = Rma.objects.get(return_request=via_web)
    assert page["Location"] == reverse("web:rma", args=[b.pk])
    assert _shape(a) == _shape(b) == ("requested", "changed_mind", "Too small", True, [a.lines.get().quantity])
    for rma in (a, b):
        created = rma.events.get(type="created")
        assert (created.actor_kind, created.actor_user_id) == ("user", world.agent.pk)
        assert created.payload["return_request_id"] == rma.return_request_id


@pytest.mark.django_db
def test_the_ticket_page_shows_the_button_then_the_rma(world, client) -> None:
    request = _request(world)
    client.force_login(world.agent)
    page = client.get(reverse("web:ticket", args=[request.ticket_id])).content.decode()
    assert 'data-action="open-rma"' in page
    client.force_login(world.viewer)  # may look, not act
    assert 'data-action="open-rma"' not in client.get(reverse("web:ticket", args=[request.ticket_id])).content.decode()
    rma = rma_open_for_return_request(user=world.agent, return_request_id=request.pk)
    client.force_login(world.agent)
    page = client.get(reverse("web:ticket", args=[request.ticket_id])).content.decode()
    assert 'data-action="open-rma"' not in page and rma.number in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "status", "words"),
    [
        ("cancelled", "Cancelled", "buyer cancelled"),
        ("closed", "Closed", "marketplace closed"),
        ("rejected", "Rejected", "declined"),
        ("completed", "Refunded", "already completed"),
    ],
)
def test_a_request_ended_on_the_marketplace_is_refused_in_both(world, client, state, status, words) -> None:
    request = _request(world, state=state, status=status)
    events_before = RmaEvent.objects.count()
    response = ApiClient(user=world.agent).post(f"/return-requests/{request.pk}/rma", {})
    assert_error(response, 422, field="return_request_id")
    assert words in response.json()["error"]["message"]
    page = _web(client, world.agent, request.pk)
    assert page.status_code == 422 and words in page.content.decode()
    assert not Rma.objects.exists() and RmaEvent.objects.count() == events_before
    client.force_login(world.agent)
    ticket_page = client.get(reverse("web:ticket", args=[request.ticket_id])).content.decode()
    assert 'data-action="open-rma"' not in ticket_page


@pytest.mark.django_db
def test_a_request_with_an_open_rma_is_refused_in_both(world, client) -> None:
    request = _request(world)
    first = rma_create_from_return_request(
        return_request_id=request.pk, actor=Actor.connector(store_id=request.store_id, platform="amazon")
    )
    events_before = RmaEvent.objects.count()
    response = ApiClient(user=world.agent).post(f"/return-requests/{request.pk}/rma", {})
    assert_error(response, 422, field="return_request_id")
    assert first.number in response.json()["error"]["message"]
    page = _web(client, world.agent, request.pk)
    assert page.status_code == 422 and first.number in page.content.decode()
    assert list(Rma.objects.values_list("pk", flat=True)) == [first.pk]
    assert RmaEvent.objects.count() == events_before
    # the connector's path stays idempotent: the same RMA back
    again = rma_create_from_return_request(
        return_request_id=request.pk, actor=Actor.connector(store_id=request.store_id, platform="amazon")
    )
    assert again.pk == first.pk


@pytest.mark.django_db
def test_an_rma_cancelled_here_lets_the_agent_open_another(world) -> None:
    request = _request(world)
    first = rma_open_for_return_request(user=world.agent, return_request_id=request.pk)
    from aftersales.returns.rma_actions import rma_cancel

    rma_cancel(user=world.admin, rma_id=first.pk, reason="opened by mistake")
    second = rma_open_for_return_request(user=world.agent, return_request_id=request.pk)
    assert second.pk != first.pk and second.status != RmaStatus.CANCELLED


@pytest.mark.django_db
def test_who_may_open_it(world, client) -> None:
    request = _request(world)
    foreign = ApiClient(user=world.foreign_user).post(f"/return-requests/{request.pk}/rma", {})
    assert_error(foreign, 404)
    assert_error(ApiClient(user=world.outsider).post(f"/return-requests/{request.pk}/rma", {}), 404)
    assert_error(ApiClient(user=world.viewer).post(f"/return-requests/{request.pk}/rma", {}), 403)
    assert_error(ApiClient(user=world.agent).post("/return-requests/999999999/rma", {}), 404)
    assert _web(client, world.outsider, request.pk).status_code == 404
    assert _web(client, world.viewer, request.pk).status_code == 403
    assert not Rma.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_clicks_at_once_open_one_rma() -> None:
    from aftersales.testing.personas import build_world

    world = build_world()
    request = _request(world)
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def click(i: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            results[i] = rma_open_for_return_request(user=world.agent, return_request_id=request.pk).pk
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    opened = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(opened) == 1 and len(refused) == 1, results
    assert refused[0].field == "return_request_id"
    assert list(Rma.objects.filter(return_request=request).values_list("pk", flat=True)) == opened
