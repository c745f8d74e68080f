"""E-mail threading: which ticket a reply belongs to, before the generic rules of ingest.

Order (the first that finds a live ticket wins):
1. our own reply token in In-Reply-To / References: every reply we send carries a Message-ID
   `<as.<message id>.<signature>@<domain>>` (`reply_message_id`); the signature is an HMAC of the
   message id with the SECRET_KEY, so a token cannot be guessed for another customer's ticket;
2. any Message-ID among In-Reply-To / References that the organization already stored (our sent
   replies keep their Message-ID as external id, inbound messages theirs);
3. a ticket reference in the subject, `[#123]`, honoured only for a ticket of the same customer
   (a subject is typed by anyone: it must not let a stranger write into someone's ticket).
Then ingest's own rules (conversation, order, the customer's open ticket: `thread_rules`, decided by
`find_thread` for message_ingest, which asks the database rule by rule, and for message_ingest_many,
which asks its page's candidates in memory: one definition for both). A merged ticket is
followed to the ticket it was merged into; a closed ticket takes no message (the customer's next
message opens a new ticket, as everywhere in the inbox).

Dedupe: Message.external_id of an e-mail is its Message-ID (or a content hash when it has none).
It is unique per (store, external id) by constraint; one message delivered to two of the
organization's mailboxes (Cc'd to sales@ and support@) is stored once: `organization_duplicate`
finds the first copy by its Message-ID in any store of the organization."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from aftersales.catalog.models import Customer
from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.core.reads import select_rows

from ..models import Message, Ticket
from ..workflow import StatusCategory, TicketStatus

_TOKEN = re.compile(r"^<?as\.(?P<message>\d{1,18})\.(?P<signature>[0-9a-f]{16})@", re.IGNORECASE)
_SUBJECT_REF = re.compile(r"\[#(?P<ticket>\d{1,18})\]")
MAX_REFERENCES = 50  # a References header of a very long thread: the nearest ones are enough


def _signature(message_id: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"aftersales-reply:{message_id}".encode(), hashlib.sha256).hexdigest()[:16]


def reply_message_id(*, message_id: int, domain: str) -> str:
    """The Message-ID of the e-mail that delivers our outbound message `message_id`: it carries the
    reply token threading recognises in the customer's answer."""
    return f"<as.{message_id}.{_signature(message_id)}@{domain or 'localhost'}>"


def message_of_reply_token(header: str) -> int | None:
    """The outbound message id of one of our Message-IDs (signature checked), else None."""
    match = _TOKEN.match(header.strip())
    if match is None:
        return None
    message_id = int(match.group("message"))
    if not hmac.compare_digest(match.group("signature").lower(), _signature(message_id)):
        return None
    return message_id


def subject_reference(subject: str) -> int | None:
    """The ticket id of a `[#123]` reference in a subject, else None."""
    match = _SUBJECT_REF.search(subject or "")
    return int(match.group("ticket")) if match else None


def subject_tag(ticket_id: int) -> str:
    return f"[#{ticket_id}]"


def organization_duplicate(*, organization_id: int, message_id_header: str) -> Message | None:
    """The message with this Message-ID the organization already stored (any store), else None. A
    probe of the (store, external id) index per store of the organization for the id alone; the
    row is loaded only for a duplicate (rare)."""
    if not message_id_header:
        return None
    pk = (
        Message.objects.filter(store__organization_id=organization_id, external_id=message_id_header)
        .order_by()
        .values_list("pk", flat=True)
        .first()
    )
    return Message.objects.select_related("ticket").get(pk=pk) if pk is not None else None


def organization_duplicate_locked(*, organization_id: int, message_id_header: str) -> Message | None:
    """organization_duplicate, inside the ingest transaction and serialised per (organization,
    Message-ID), so that two mailboxes ingesting the same mail at the same moment store it once:
    PostgreSQL takes a transaction-level advisory lock on its hash (held until commit, then the
    first copy is visible); SQLite's transactions are IMMEDIATE, i.e. already serialised."""
    if connection.vendor == "postgresql":
        digest = hashlib.sha256(f"email:{organization_id}:{message_id_header}".encode()).digest()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])
    return organization_duplicate(organization_id=organization_id, message_id_header=message_id_header)


def find_reply_thread(
    *, organization_id: int, customer: Customer | None, references: list[str], subject: str
) -> Ticket | None:
    """The live ticket (locked) an e-mail answers, by rules 1-3 of the module docstring, else None.
    Call inside the ingest transaction (select_for_update)."""
    refs = [r.strip() for r in references[:MAX_REFERENCES] if r and r.strip()]
    ticket_ids: list[int] = []
    token_messages = [m for m in (message_of_reply_token(r) for r in refs) if m is not None]
    if token_messages:
        found = dict(
            Message.objects.filter(pk__in=token_messages, ticket__organization_id=organization_id).values_list(
                "pk", "ticket_id"
            )
        )
        ticket_ids += [found[m] for m in token_messages if m in found]
    if refs:
        known = dict(
            Message.objects.filter(store__organization_id=organization_id, external_id__in=refs).values_list(
                "external_id", "ticket_id"
            )
        )
        ticket_ids += [known[r] for r in refs if r in known]  # nearest reference first
    for ticket_id in ticket_ids:
        ticket = _live(ticket_id, organization_id)
        if ticket is not None:
            return ticket
    referenced = subject_reference(subject)
    if referenced is not None and customer is not None and customer.pk is not None:
        ticket = _live(referenced, organization_id)
        if ticket is not None and ticket.customer_id == customer.pk:
            return ticket
    return None


def _live(ticket_id: int, organization_id: int) -> Ticket | None:
    """The ticket, or the one it was merged into (followed a few hops), locked; None if closed."""
    for _hop in range(5):
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id, organization_id=organization_id).first()
        if ticket is None:
            return None
        if ticket.merged_into_id is None:
            return None if ticket.status == TicketStatus.CLOSED else ticket
        ticket_id = ticket.merged_into_id
    return None


# --- the generic rules (after the e-mail rules above) -------------------------------------------

# A customer's ticket in these categories takes their next message (a resolved one does not).
THREAD_CATEGORIES = (StatusCategory.OPEN, StatusCategory.WAITING)


def live_tickets() -> QuerySet[Ticket]:
    """Tickets a message can thread into (not merged, not closed), locked. Written as exclude(): as
    `merged_into IS NULL`, SQLite (no statistics) probed the merged_into index, i.e. walked nearly
    every ticket, instead of the customer's; `NOT (merged_into IS NOT NULL)` is not indexable."""
    return Ticket.objects.select_for_update().exclude(merged_into__isnull=False).exclude(status=TicketStatus.CLOSED)


def is_live(ticket: Ticket) -> bool:
    """live_tickets() as a test of one ticket in memory."""
    return ticket.merged_into_id is None and ticket.status != TicketStatus.CLOSED


@dataclass(frozen=True)
class ThreadKey:
    """What the generic rules look at. customer_id None: a customer created by this very message
    (they have no ticket yet: the customer rule is skipped)."""

    store_id: int
    customer_id: int | None
    order_id: int | None
    conversation_id: str


def thread_rules(key: ThreadKey) -> list[dict[str, Any]]:
    """The generic threading rules, in order, each a filter over live tickets (field lookups: exact,
    or `__in`); the newest matching ticket of the first rule that matches any wins:
    1. the same conversation on the same store; 2. the same order; 3. the customer's open or
    waiting ticket on the same store."""
    rules: list[dict[str, Any]] = []
    if key.conversation_id:
        rules.append({"store_id": key.store_id, "conversation_id": key.conversation_id})
    if key.order_id is not None:
        rules.append({"order_id": key.order_id})
    if key.customer_id is not None:
        rules.append(
            {"store_id": key.store_id, "customer_id": key.customer_id, "status_category__in": THREAD_CATEGORIES}
        )
    return rules


def find_thread(key: ThreadKey, newest: Callable[[dict[str, Any]], Ticket | None]) -> Ticket | None:
    """The ticket the rules pick: `newest(rule)` answers the newest live ticket matching one rule
    (the database for one message: `newest_live`; a page's candidates in memory for many)."""
    for rule in thread_rules(key):
        ticket = newest(rule)
        if ticket is not None:
            return ticket
    return None


def newest_live(rule: dict[str, Any]) -> Ticket | None:
    """One rule asked of the database (locking the ticket it finds)."""
    return live_tickets().filter(**rule).order_by("-id").first()


def rule_matches(ticket: Ticket, rule: dict[str, Any]) -> bool:
    """One rule as a test of a ticket in memory (the lookups thread_rules uses: exact and `__in`)."""
    for lookup, wanted in rule.items():
        name, _sep, op = lookup.partition("__")
        value = getattr(ticket, name)
        if op == "in":
            if value not in wanted:
                return False
        elif op:  # pragma: no cover - thread_rules uses no other lookup
            raise ValueError(f"unsupported lookup {lookup}")
        elif value != wanted:
            return False
    return True


def thread_candidates(keys: Iterable[ThreadKey]) -> list[Ticket]:
    """Every live ticket any rule of any of `keys` could pick, in one query (locked, in id order: the
    order every writer locks tickets in). The union of thread_rules, grouped per store."""
    conversations: dict[int, set[str]] = {}
    customers: dict[int, set[int]] = {}
    orders: set[int] = set()
    for key in keys:
        for rule in thread_rules(key):
            if "conversation_id" in rule:
                conversations.setdefault(rule["store_id"], set()).add(rule["conversation_id"])
            elif "customer_id" in rule:
                customers.setdefault(rule["store_id"], set()).add(rule["customer_id"])
            else:
                orders.add(rule["order_id"])
    if not (conversations or customers or orders):
        return []
    args: list[Any] = []
    for store_id, values in conversations.items():
        args += [store_id, sorted(values)]
    for store_id, ids in customers.items():
        args += [store_id, sorted(ids)]
    if orders:
        args.append(sorted(orders))
    # The SQL of each shape (how many stores of each rule, whether orders) is built once (core/reads.py);
    # no list is empty, so none drops out of the OR.
    shape = ("threading.candidates", len(conversations), len(customers), bool(orders))
    return select_rows(shape, lambda *values: _candidates(len(conversations), len(customers), values), *args)


def _candidates(conversation_stores: int, customer_stores: int, values: tuple[Any, ...]) -> QuerySet[Ticket]:
    """thread_candidates' query: `values` are (store id, conversation ids) for each of the first stores,
    (store id, customer ids) for each of the next, then the order ids if any."""
    condition = Q()
    at = 0
    for _ in range(conversation_stores):
        condition |= Q(store_id=values[at], conversation_id__any_of=values[at + 1])
        at += 2
    for _ in range(customer_stores):
        condition |= Q(store_id=values[at], customer_id__any_of=values[at + 1], status_category__in=THREAD_CATEGORIES)
        at += 2
    if at < len(values):
        condition |= Q(order_id__any_of=values[at])
    return live_tickets().filter(condition).order_by("id")
