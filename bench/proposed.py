"""Selector changes proposed by the inbox benchmark that are not (yet) in inbox/selectors.py, as a
patch `bench/inbox.py --proposed` applies at run time, so that the current code and the proposal are
measured on the same data through the same request path. See docs/adr/0003-inbox-indexes.md.

Already adopted (commit de815ee): sort without NULLS LAST on NOT NULL keys, no store credentials
loaded for lists and details, `q` as a UNION of index-backed branches with its indexes.

Still proposed:
1. `q` shorter than 3 characters matches identifiers only (ticket id, order number, tracking number,
   customer e-mail). A trigram index cannot serve a substring pattern under 3 characters, so today
   such a search reads every subject, every customer name and every message: 3-5 s at 1M tickets
   (a two-character Chinese word such as 退款 is the common case). The cost: short substrings are no
   longer found; for CJK, pg_bigm (bigram index) would bring them back.
"""

from __future__ import annotations

from django.db.models import Q

MIN_SUBSTRING = 3


def text_q(text: str) -> Q:
    from aftersales.catalog.models import Customer, Order, Shipment
    from aftersales.inbox.models import Message, Ticket

    t = text.strip()
    substring = len(t) >= MIN_SUBSTRING
    customers = Customer.objects.filter((Q(name__icontains=t) if substring else Q(pk__in=[])) | Q(email__iexact=t))
    branches = [
        Ticket.objects.filter(customer_id__in=customers.values("pk")).values("pk"),
        Ticket.objects.filter(order_id__in=Order.objects.filter(external_id=t).values("pk")).values("pk"),
        Ticket.objects.filter(order_id__in=Shipment.objects.filter(tracking_number=t).values("order_id")).values("pk"),
    ]
    if substring:
        branches.append(Ticket.objects.filter(subject__icontains=t).values("pk"))
        branches.append(Message.objects.filter(body__icontains=t).order_by().values("ticket_id"))
    digits = t.lstrip("#")
    if digits.isdigit() and len(digits) < 19:
        branches.append(Ticket.objects.filter(pk=int(digits)).values("pk"))
    return Q(pk__in=branches[0].union(*branches[1:]))


def apply() -> None:
    """Install the proposal (ticket_queryset looks `_text_q` up in its module at call time)."""
    from aftersales.inbox import selectors

    selectors._text_q = text_q
