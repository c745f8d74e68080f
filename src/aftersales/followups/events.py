"""Domain events of the follow-ups, published after commit (core.events); listed in docs/events.md.
Each carries the organization id and the `actor` (the system component "followups", or the buyer
who rated)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class FollowUpSent:
    follow_up_id: int
    organization_id: int
    kind: str  # FollowUpKind
    ticket_id: int | None
    message_id: int | None  # the queued system reply
    actor: Actor


@dataclass(frozen=True)
class FollowUpSkipped:
    follow_up_id: int
    organization_id: int
    kind: str
    ticket_id: int | None
    reason: str  # a code: links_forbidden, not_sampled, no_ticket, no_coupon, reply_refused...
    actor: Actor


@dataclass(frozen=True)
class CsatRated:
    response_id: int
    organization_id: int
    ticket_id: int
    rating: int  # 1..5
    has_comment: bool
    is_change: bool  # the buyer re-rated
    actor: Actor  # the customer
