"""Agent actions on tickets: reply, note, status, assignment, fields, tags, merge, bulk."""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, Team, User
from aftersales.accounts.permissions import can_view_ticket, check_ticket
from aftersales.catalog.models import Customer, Order
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from aftersales.core.validation import check_text, field_label

from ..events import NoteAdded, ReplyQueued, TicketAssigned, TicketsMerged, TicketUpdated
from ..models import DeliveryStatus, Mention, Message, MessageDirection, Tag, Ticket, TicketEvent, TicketEventType
from ..workflow import TicketCategory, TicketStatus, Urgency, check_transition
from .common import (
    AttachmentInput,
    actor_display_name,
    audit_row,
    check_attachments,
    check_store_active,
    check_ticket_actor,
    record_event,
    save_attachments,
    stored_files_removed_on_error,
)
from .reply_rules import check_reply_rules
from .search import ticket_search_refresh
from .transition import ticket_transition

MAX_REPLY_CHARS = 20_000
MAX_MENTIONS = 20  # a note is not a mailing list
MAX_TAG_CHANGES = 50  # tags added (or removed) by one request
MENTION_RE = re.compile(r"(?<![\w@.])@([\w.+-]{1,150})")


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _check_text(body: str, *, field: str, limit: int) -> str:
    text = check_text(body, field=field).strip()  # storable, no control characters (API and UI alike)
    if not text:
        raise ValidationFailed(gettext("%(field)s must not be empty") % {"field": field_label(field)}, field=field)
    if len(text) > limit:
        raise ValidationFailed(
            gettext("%(field)s is longer than %(limit)s characters") % {"field": field_label(field), "limit": limit},
            field=field,
        )
    return text


def ticket_reply(
    *,
    ticket: Ticket,
    author: User | Actor,
    body: str,
    idempotency_key: str | None = None,
    status: str | None = None,
    attachments: list[AttachmentInput] | None = None,
) -> Message:
    """Queue a reply to the customer; it is delivered by the worker after commit. `author` is the
    agent (permission-checked) or a rule/system/connector Actor (trusted code; the message then has
    no author user and shows the actor's label). The ticket's
    status (`status`, else the ON_AGENT_REPLY table) and its unreplied mark change only once the
    reply is delivered (services.delivery): an undeliverable reply leaves the ticket as it was.

    Same idempotency key on the same ticket returns the first reply (no second message).
    Locks the ticket row."""
    message, _ = ticket_reply_idempotent(
        ticket=ticket, author=author, body=body, idempotency_key=idempotency_key, status=status, attachments=attachments
    )
    return message


def ticket_reply_idempotent(
    *,
    ticket: Ticket,
    author: User | Actor,
    body: str,
    idempotency_key: str | None = None,
    status: str | None = None,
    attachments: list[AttachmentInput] | None = None,
    template: dict[str, Any] | None = None,
) -> tuple[Message, bool]:
    """ticket_reply that also says whether the reply was created (True) or an earlier reply with
    the same idempotency key was returned (False). A reused key with a different body is a
    Conflict. The ticket row lock serialises concurrent requests with the same key. `template`
    (checked by template_replies.ticket_template_reply, `body` its rendered text) makes the reply an
    approved platform template, which the platform's reply window does not restrict."""
    actor = check_ticket_actor(author, ticket, Permission.REPLY)
    user = author if isinstance(author, User) else None
    text = _check_text(body, field="body", limit=MAX_REPLY_CHARS)
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 120):
        raise ValidationFailed(gettext("idempotency key must be 1 to 120 characters"), field="idempotency_key")
    files = attachments or []
    types = check_attachments(files)
    if not template:  # a template is what the platform allows outside its window
        check_reply_rules(ticket=ticket, body=text, attachments=files, types=types)  # e.g. Amazon's relay
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(gettext("the ticket is closed; the customer's next message will open a new one"), field="status")
    with stored_files_removed_on_error(), transaction.atomic():
        locked = _locked(ticket)
        if status and status != locked.status:
            check_transition(locked.status, status)  # refused now, not silently at delivery
        if idempotency_key:
            existing = Message.objects.filter(ticket=locked, idempotency_key=idempotency_key).first()
            if existing is not None:
                if existing.body != text:
                    raise Conflict(
                        gettext("this idempotency key was already used for a different reply"), field="idempotency_key"
                    )
                return existing, False
        check_store_active(locked.store_id, field="store")
        at = now()
        message = Message.objects.create(
            ticket=locked,
            store_id=locked.store_id,
            direction=MessageDirection.OUTBOUND,
            channel=locked.platform,
            author=user,
            author_name=str(user) if user else actor_display_name(actor),
            body=text,
            language=locked.language,
            delivery_status=DeliveryStatus.QUEUED,
            idempotency_key=idempotency_key,
            template=template or {},
        )
        save_attachments(message, files, types)
        locked.last_message_at = at
        if locked.assignee_id is None and user is not None:  # an agent's reply takes the ticket; a rule's does not
            locked.assignee = user
            record_event(locked, TicketEventType.ASSIGNED, actor, old=None, new=user.pk, reason="replied")
        replied: dict[str, Any] = {"message_id": message.pk}
        if status:
            replied["status"] = status  # applied when the reply is delivered
        record_event(locked, TicketEventType.REPLIED, actor, **replied)
        locked.save()
        ticket_search_refresh(ticket_ids=[locked.pk])
        events.publish(
            ReplyQueued(message_id=message.pk, ticket_id=locked.pk, organization_id=locked.organization_id, actor=actor)
        )
    return message, True


def ticket_add_note(
    *, ticket: Ticket, author: User | Actor, body: str, attachments: list[AttachmentInput] | None = None
) -> tuple[Message, list[User]]:
    """Add an internal note, with attachments checked as a reply's are. @username mentions of
    colleagues who can see the ticket notify them (after commit). Returns the note and the users
    notified. `author` is an agent or a rule/system Actor (see ticket_reply)."""
    actor = check_ticket_actor(author, ticket, Permission.PROCESS)
    user = author if isinstance(author, User) else None
    text = _check_text(body, field="body", limit=MAX_REPLY_CHARS)
    files = attachments or []
    types = check_attachments(files)
    names = sorted({m.lower() for m in MENTION_RE.findall(text)})[:MAX_MENTIONS]
    candidates = (
        User.objects.filter(
            reduce(operator.or_, (Q(username__iexact=n) for n in names)),
            organization_id=ticket.organization_id,
            is_active=True,
        )
        .select_related("role")
        .exclude(pk=user.pk if user else 0)  # no user has id 0: a rule's note notifies everyone named
        if names
        else User.objects.none()
    )
    mentioned = [u for u in candidates if can_view_ticket(u, ticket)]
    with stored_files_removed_on_error(), transaction.atomic():
        locked = _locked(ticket)
        note = Message.objects.create(
            ticket=locked,
            store_id=locked.store_id,
            direction=MessageDirection.NOTE,
            channel=locked.platform,
            author=user,
            author_name=str(user) if user else actor_display_name(actor),
            body=text,
        )
        save_attachments(note, files, types)
        Mention.objects.bulk_create([Mention(message=note, user=u) for u in mentioned])
        record_event(locked, TicketEventType.NOTE_ADDED, actor, message_id=note.pk, mentioned=[u.pk for u in mentioned])
        locked.save(update_fields=["updated_at"])
        ticket_search_refresh(ticket_ids=[locked.pk])
        events.publish(
            NoteAdded(
                message_id=note.pk,
                ticket_id=locked.pk,
                organization_id=locked.organization_id,
                author_id=user.pk if user else None,
                mentioned_user_ids=tuple(u.pk for u in mentioned),
                actor=actor,
            )
        )
    return note, mentioned


def ticket_change_status(*, ticket: Ticket, actor: User | Actor, status: str) -> Ticket:
    """Move a ticket through the transition table. `actor`: an agent (permission-checked) or a
    rule/system Actor. Locks the ticket row."""
    who = check_ticket_actor(actor, ticket, Permission.PROCESS)
    if status not in TicketStatus.values:
        raise ValidationFailed(
            gettext("unknown status %(status)r; expected one of %(join)s")
            % {"status": status, "join": ", ".join(TicketStatus.values)},
            field="status",
        )
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.merged_into_id is not None:
            raise Conflict(gettext("the ticket was merged into another one"), field="status")
        if ticket_transition(locked, status, actor=who):
            locked.save()
    return locked


def ticket_assign(*, ticket: Ticket, actor: User | Actor, assignee: User | None, reason: str = "") -> Ticket:
    """Assign (or unassign with None). The assignee must be an active agent of the organization
    whose role can process tickets, whoever assigns (an agent, a rule, routing). `reason` (e.g.
    routing's) is kept on the audit row. Locks the ticket row."""
    who = check_ticket_actor(actor, ticket, Permission.PROCESS)
    if assignee is not None:
        from aftersales.accounts.permissions import has_perm

        if assignee.organization_id != ticket.organization_id or not assignee.is_active:
            raise NotFound(gettext("assignee not found"), field="assignee_id")
        if not has_perm(assignee, Permission.PROCESS):
            raise ValidationFailed(
                gettext("%(assignee)s cannot process tickets (role %(role)s)")
                % {"assignee": assignee, "role": assignee.role},
                field="assignee_id",
            )
    with transaction.atomic():
        locked = _locked(ticket)
        old = locked.assignee_id
        new = assignee.pk if assignee else None
        if old == new:
            return locked
        locked.assignee = assignee
        if locked.status == TicketStatus.NEW and assignee is not None:
            ticket_transition(locked, TicketStatus.OPEN, actor=who, reason="assigned")
        assigned = record_event(locked, TicketEventType.ASSIGNED, who, old=old, new=new, **_why(reason))
        locked.save()
        events.publish(
            TicketAssigned(
                ticket_id=locked.pk,
                organization_id=locked.organization_id,
                assignee_id=new,
                ticket_event_id=assigned.pk,
                actor=who,
            )
        )
    return locked


_UNSET: Any = object()


def ticket_update(
    *,
    ticket: Ticket,
    actor: User | Actor,
    category: str | None = None,
    urgency: str | None = None,
    is_high_priority: bool | None = None,
    team: Team | None = _UNSET,
    subject: str | None = None,
    order: Order | None = _UNSET,
    reason: str = "",
) -> Ticket:
    """Change classification fields. Each change is one audit row; one `TicketUpdated` event names
    them all. `actor`: an agent (permission-checked) or a rule/system Actor; the team and the order
    must be the ticket's organization's either way. `reason` (e.g. triage's) is kept on the audit
    rows. Locks the ticket row."""
    who = check_ticket_actor(actor, ticket, Permission.PROCESS)
    if category is not None and category not in TicketCategory.values:
        raise ValidationFailed(gettext("unknown category %(category)r") % {"category": category}, field="category")
    if urgency is not None and urgency not in Urgency.values:
        raise ValidationFailed(gettext("unknown urgency %(urgency)r") % {"urgency": urgency}, field="urgency")
    if team is not _UNSET and team is not None and team.organization_id != ticket.organization_id:
        raise NotFound(gettext("team not found"), field="team_id")
    if order is not _UNSET and order is not None and order.organization_id != ticket.organization_id:
        raise NotFound(gettext("order not found"), field="order_id")
    if subject is not None:
        subject = _check_text(subject, field="subject", limit=300)
    with transaction.atomic():
        locked = _locked(ticket)
        changes = [
            ("category", category, TicketEventType.CATEGORY_CHANGED),
            ("urgency", urgency, TicketEventType.URGENCY_CHANGED),
            ("is_high_priority", is_high_priority, TicketEventType.PRIORITY_CHANGED),
            ("subject", subject, TicketEventType.SUBJECT_CHANGED),
        ]
        applied: dict[str, tuple[Any, Any]] = {}
        last: TicketEvent | None = None  # the call's last audit row: the event's identity
        for attr, value, event_type in changes:
            if value is None or getattr(locked, attr) == value:
                continue
            last = record_event(
                locked, event_type, who, field=attr, old=getattr(locked, attr), new=value, **_why(reason)
            )
            applied[attr] = (getattr(locked, attr), value)
            setattr(locked, attr, value)
        if team is not _UNSET and locked.team_id != (team.pk if team else None):
            new_team = team.pk if team else None
            last = record_event(
                locked, TicketEventType.TEAM_CHANGED, who, old=locked.team_id, new=new_team, **_why(reason)
            )
            applied["team_id"] = (locked.team_id, new_team)
            locked.team = team
        if order is not _UNSET and locked.order_id != (order.pk if order else None):
            new_order = order.pk if order else None
            last = record_event(
                locked, TicketEventType.ORDER_LINKED, who, old=locked.order_id, new=new_order, **_why(reason)
            )
            applied["order_id"] = (locked.order_id, new_order)
            locked.order = order
        if applied and last is not None:
            locked.save()
            _publish_updated(locked, applied, who, ticket_event_id=last.pk)
        if "subject" in applied:
            ticket_search_refresh(ticket_ids=[locked.pk])  # the subject is part of the search document
    return locked


def ticket_routing_unchanged(*, ticket: Ticket, actor: Actor, explanation: Mapping[str, Any]) -> TicketEvent:
    """The audit row of a routing decision that changed nothing (no team admits the ticket, or it already
    has the team and agent chosen), with the decision's explanation, so the timeline says routing ran
    and why nothing moved. Only an audit row: nothing changed, so no TicketUpdated is published.
    `actor` was checked by the caller (triage.routing.ticket_route)."""
    return record_event(ticket, TicketEventType.ROUTED_UNCHANGED, actor, routing=dict(explanation))


def _why(reason: str) -> dict[str, str]:
    return {"reason": reason[:200]} if reason else {}


def _publish_updated(
    ticket: Ticket, changes: dict[str, tuple[Any, Any]], actor: Actor, *, ticket_event_id: int
) -> None:
    events.publish(
        TicketUpdated(
            ticket_id=ticket.pk,
            organization_id=ticket.organization_id,
            changes=dict(changes),
            actor=actor,
            ticket_event_id=ticket_event_id,
        )
    )


def ticket_set_tags(
    *,
    ticket: Ticket,
    actor: User | Actor,
    add: list[str] = (),  # type: ignore[assignment]
    remove: list[str] = (),  # type: ignore[assignment]
) -> list[str]:
    """Add and remove tags (created on first use, in the ticket's organization). Returns the
    ticket's tags afterwards. `actor`: an agent (permission-checked) or a rule/system Actor."""
    who = check_ticket_actor(actor, ticket, Permission.PROCESS)
    if len(add) > MAX_TAG_CHANGES or len(remove) > MAX_TAG_CHANGES:
        raise ValidationFailed(gettext("at most %(count)d tags at once") % {"count": MAX_TAG_CHANGES}, field="add")
    clean_add = [_clean_tag(t, i) for i, t in enumerate(add)]
    clean_remove = {check_text(t, field=f"remove[{i}]", one_line=True).strip().lower() for i, t in enumerate(remove)}
    with transaction.atomic():
        locked = _locked(ticket)
        before = sorted(locked.tags.values_list("name", flat=True))
        for name in clean_add:
            tag, _ = Tag.objects.get_or_create(organization_id=locked.organization_id, name=name)
            locked.tags.add(tag)
        if clean_remove:
            locked.tags.remove(*locked.tags.filter(name__in=clean_remove))
        after = sorted(locked.tags.values_list("name", flat=True))
        if after != before:
            row = record_event(locked, TicketEventType.TAGS_CHANGED, who, old=before, new=after)
            locked.save(update_fields=["updated_at"])
            _publish_updated(locked, {"tags": (tuple(before), tuple(after))}, who, ticket_event_id=row.pk)
    return after


def _clean_tag(raw: str, index: int) -> str:
    return check_tag_name(raw, field=f"add[{index}]")


def check_tag_name(raw: str, *, field: str) -> str:
    """A tag as stored: one line, spaces collapsed, lower case, 1 to 60 characters (the tag rules,
    also for the tags a reply template adds)."""
    name = check_text(" ".join(str(raw).split()).lower(), field=field, one_line=True)
    if not name or len(name) > 60:
        raise ValidationFailed(gettext("a tag has 1 to 60 characters"), field=field)
    return name


def merge_differences(source: Ticket, target: Ticket) -> list[str]:
    """What differs between two tickets of one organization that a merge would join: the customer
    and the store. Empty when they are the same buyer on the same store."""
    differences = []
    if source.customer_id != target.customer_id:
        differences.append(
            _("customer (%(source)s / %(target)s)")
            % {
                "source": source.customer.name or f"#{source.customer_id}",
                "target": target.customer.name or f"#{target.customer_id}",
            }
        )
    if source.store_id != target.store_id:
        differences.append(
            _("store (%(source)s / %(target)s)") % {"source": source.store.name, "target": target.store.name}
        )
    return differences


def ticket_merge(*, source: Ticket, target: Ticket, actor: User, confirm_differences: bool = False) -> Ticket:
    """Merge a duplicate `source` into `target`: its messages move over, it is closed (through the
    transition table) and points to the target. Never across organizations (NotFound). When the
    customers or stores differ, Conflict (field `confirm_differences`, code `merge_differences`)
    names the differences unless `confirm_differences` is True. Idempotency keys of moved replies
    that the target already uses are re-keyed (scoped by their former ticket), so the unique
    (ticket, idempotency key) constraint cannot refuse the merge. Both rows are locked (in id
    order, to avoid deadlocks)."""
    check_ticket(actor, source, Permission.PROCESS)
    check_ticket(actor, target, Permission.PROCESS)
    if source.organization_id != target.organization_id:
        raise NotFound(_("target ticket not found"), field="target_id")
    if source.pk == target.pk:
        raise ValidationFailed(gettext("a ticket cannot be merged into itself"), field="target_id")
    who = Actor.user(actor)
    with transaction.atomic():
        first, second = sorted([source.pk, target.pk])
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update(of=("self",))
            .select_related("customer", "store")
            .filter(pk__in=[first, second])
            .order_by("pk")
        }
        src, dst = locked[source.pk], locked[target.pk]
        if src.merged_into_id is not None:
            raise Conflict(gettext("ticket #%(pk)s was already merged") % {"pk": src.pk}, field="ticket_id")
        if dst.merged_into_id is not None or dst.status == TicketStatus.CLOSED:
            raise Conflict(
                gettext("ticket #%(pk)s is closed or merged and cannot receive messages") % {"pk": dst.pk},
                field="target_id",
            )
        differences = merge_differences(src, dst)
        if differences and not confirm_differences:
            raise Conflict(
                _("These tickets differ: %(differences)s. Check them and confirm to merge anyway.")
                % {"differences": "; ".join(differences)},
                field="confirm_differences",
                code="merge_differences",
            )
        rekeyed = _rekey_colliding_replies(src, dst)
        moved = Message.objects.filter(ticket=src).update(ticket=dst)
        for tag in src.tags.all():
            dst.tags.add(tag)
        agg = Message.objects.filter(ticket=dst).aggregate(last=Max("created_at"))
        dst.last_message_at = max(filter(None, [dst.last_message_at, src.last_message_at, agg["last"]]), default=None)
        if src.last_customer_message_at and (
            dst.last_customer_message_at is None or src.last_customer_message_at > dst.last_customer_message_at
        ):
            dst.last_customer_message_at = src.last_customer_message_at
            dst.is_unreplied = src.is_unreplied or dst.is_unreplied
        dst.order = dst.order or src.order
        dst.is_high_priority = dst.is_high_priority or src.is_high_priority
        src.merged_into = dst
        ticket_transition(src, TicketStatus.CLOSED, actor=who, reason="merged")
        merged: dict[str, Any] = {"into": dst.pk, "messages_moved": moved}
        if differences:
            merged["differences_confirmed"] = differences
        if rekeyed:
            merged["idempotency_keys_rescoped"] = rekeyed
        record_event(src, TicketEventType.MERGED, who, **merged)
        record_event(dst, TicketEventType.MERGED_FROM, who, source=src.pk, messages_moved=moved)
        src.save()
        dst.save()
        ticket_search_refresh(ticket_ids=[src.pk, dst.pk])
        events.publish(
            TicketsMerged(source_id=src.pk, target_id=dst.pk, organization_id=dst.organization_id, actor=who)
        )
    return dst


def _rekey_colliding_replies(src: Ticket, dst: Ticket) -> int:
    """Replies of `src` whose idempotency key `dst` already holds get a key scoped by `src`
    ("merged-<src id>:<sha256 of the key>"), unique within `dst`. The source is closed, so the key
    can no longer be replayed on it; a replay on the target is a different request."""
    keys = set(
        Message.objects.filter(ticket=dst, idempotency_key__isnull=False).values_list("idempotency_key", flat=True)
    )
    colliding = Message.objects.filter(ticket=src, idempotency_key__in=keys) if keys else Message.objects.none()
    count = 0
    for message in colliding:
        digest = hashlib.sha256((message.idempotency_key or "").encode()).hexdigest()
        Message.objects.filter(pk=message.pk).update(idempotency_key=f"merged-{src.pk}:{digest}")
        count += 1
    return count


class BulkAction:
    ASSIGN = "assign"
    TAG = "tag"
    STATUS = "status"
    ALL = ("assign", "tag", "status")


@dataclass
class BulkResult:
    succeeded: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        return {"succeeded": len(self.succeeded), "failed": len(self.failed)}


MAX_BULK = 500


def tickets_bulk_apply(*, actor: User, ticket_ids: list[int], action: str, value: Any) -> BulkResult:
    """Apply one action to many tickets. Each ticket is its own transaction: one failure does not
    undo the others, and the result says which succeeded and why the others failed."""
    if action not in BulkAction.ALL:
        raise ValidationFailed(
            gettext("unknown action %(action)r; expected one of %(join)s")
            % {"action": action, "join": ", ".join(BulkAction.ALL)},
            field="action",
        )
    if not ticket_ids:
        raise ValidationFailed(gettext("select at least one ticket"), field="ticket_ids")
    if len(ticket_ids) > MAX_BULK:
        raise ValidationFailed(
            gettext("at most %(max_bulk)s tickets per bulk action") % {"max_bulk": MAX_BULK}, field="ticket_ids"
        )
    assignee: User | None = None
    if action == BulkAction.ASSIGN and value is not None:
        assignee = User.objects.select_related("role").filter(pk=value, organization=actor.organization).first()
        if assignee is None:
            raise NotFound(gettext("assignee not found"), field="value")
    if action == BulkAction.STATUS and value not in TicketStatus.values:
        raise ValidationFailed(gettext("unknown status %(value)r") % {"value": value}, field="value")
    if action == BulkAction.TAG and (not isinstance(value, str) or not value.strip()):
        raise ValidationFailed(gettext("give the tag to add"), field="value")
    result = BulkResult()
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=ticket_ids, organization=actor.organization)}
    for ticket_id in dict.fromkeys(ticket_ids):
        ticket = tickets.get(ticket_id)
        if ticket is None:
            result.failed[ticket_id] = "ticket not found"
            continue
        try:
            if action == BulkAction.ASSIGN:
                ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
            elif action == BulkAction.STATUS:
                ticket_change_status(ticket=ticket, actor=actor, status=value)
            else:
                ticket_set_tags(ticket=ticket, actor=actor, add=[value])
        except DomainError as exc:
            result.failed[ticket_id] = "ticket not found" if isinstance(exc, NotFound) else exc.message
        else:
            result.succeeded.append(ticket_id)
    return result


def ticket_set_detected_language(*, message_id: int, language: str) -> bool:
    """The language engine confidently detected the language of an inbound message: the ticket
    (its filters, its team scope) follows the customer's language, and the customer's preferred
    language is filled in when unknown. Returns True when the ticket changed. Locks the ticket row.
    (The batch of one of `tickets_set_detected_language`.)"""
    return message_id in tickets_set_detected_language(languages={message_id: language})


def tickets_set_detected_language(*, languages: Mapping[int, str]) -> set[int]:
    """`ticket_set_detected_language` for many messages (message id -> detected language), in the order
    given, in one transaction and a fixed number of queries. Returns the ids of the messages whose ticket
    changed. Locks the tickets' rows (in id order)."""
    codes: dict[int, str] = {}
    for message_id, language in languages.items():
        code = language.strip().lower()
        if not code or len(code) > 10 or not code.replace("-", "").isalpha():
            raise ValidationFailed(
                gettext("invalid language code %(language)r") % {"language": language}, field="language"
            )
        codes[message_id] = code
    inbound = dict(
        Message.objects.filter(pk__in=codes, direction=MessageDirection.INBOUND).values_list("pk", "ticket_id")
    )
    if not inbound:
        return set()
    changed: set[int] = set()
    with transaction.atomic():
        tickets = {
            t.pk: t
            for t in Ticket.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk__in=set(inbound.values()))
            .order_by("pk")
        }
        latest_inbound = (
            Message.objects.filter(ticket=OuterRef("pk"), direction=MessageDirection.INBOUND)
            .order_by("-created_at", "-id")
            .values("pk")[:1]
        )
        latest = dict(
            Ticket.objects.filter(pk__in=tickets).annotate(latest=Subquery(latest_inbound)).values_list("pk", "latest")
        )
        filled: dict[int, str] = {}  # customer id -> the language filled in (the first message's)
        moved: dict[str, list[int]] = {}  # language -> tickets that follow it now
        rows = []
        for message_id, code in codes.items():
            ticket = tickets.get(inbound.get(message_id, 0))
            if ticket is None:
                continue
            if not ticket.customer.preferred_language:
                filled.setdefault(ticket.customer_id, code)
            latest_id = latest.get(ticket.pk)
            if ticket.language == code or (latest_id is not None and latest_id != message_id):
                continue  # an older message does not override what a newer one said
            rows.append(
                audit_row(
                    ticket,
                    TicketEventType.LANGUAGE_DETECTED,
                    Actor.system("language-engine"),
                    old=ticket.language,
                    new=code,
                    message_id=message_id,
                )
            )
            ticket.language = code
            moved.setdefault(code, []).append(ticket.pk)
            changed.add(message_id)
        by_language: dict[str, list[int]] = {}
        for customer_id, code in filled.items():
            by_language.setdefault(code, []).append(customer_id)
        for code, customer_ids in by_language.items():
            Customer.objects.filter(pk__in=customer_ids, preferred_language="").update(preferred_language=code)
        if rows:
            TicketEvent.objects.bulk_create(rows)
        at = now()
        for code, ticket_ids in moved.items():
            Ticket.objects.filter(pk__in=ticket_ids).update(language=code, updated_at=at)
    return changed
