"""Amazon's buyer messages: they reach the seller only by e-mail, through Amazon's relay.

A buyer writes in "Contact seller"; Amazon sends it from an anonymised relay address
(`<token>@marketplace.amazon.<tld>`) to the e-mail address the seller registered. SP-API's
Messaging API cannot answer such a message: the answer goes by e-mail to the relay address, from the
registered address, under Amazon's rules (Buyer-Seller Messaging guidelines):
- plain text (no HTML);
- no external links (only links to Amazon's own sites), no e-mail addresses, no phone numbers
  asking the buyer to leave Amazon: we refuse links and e-mail addresses, which is what the relay
  strips or blocks;
- attachments only of the accepted types (images, PDF, text, Word), at most 10 MB in total.
A draft breaking them is refused when the agent queues it (`relay_reply_problems`), with the field
and a reason, not by a bounce hours later.

The relay message is linked to the organization's Amazon store of that marketplace
(marketplace.amazon.de -> the Amazon store whose site is amazon.de; else the only Amazon store) and
to the order number (3-7-7 digits) in the subject or body. Its ticket's conversation id records
the mailbox it came through and the relay address (`relay_conversation_id`), so that the reply is
sent from that mailbox. Pure, no Django."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

RELAY_DOMAIN = re.compile(r"@marketplace\.(amazon\.[a-z.]{2,12})$", re.IGNORECASE)
ORDER_NUMBER = re.compile(r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])")
_NAME_SUFFIX = re.compile(
    r"\s*[-–]\s*(?:Amazon(?:\.\S+)?\s+)?(?:Marketplace|マーケットプレイス)(?:\s+Amazon)?\s*$", re.IGNORECASE
)
_CONVERSATION = re.compile(r"^amazon-relay:(?P<mailbox>\d+):(?P<address>[^:\s]+@marketplace\.amazon\.[a-z.]+)(?::.*)?$")

# Amazon's rules for answers through the relay.
ALLOWED_ATTACHMENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
MAX_ATTACHMENTS_BYTES = 10 * 1024 * 1024
_LINK = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"')]+", re.IGNORECASE)
_AMAZON_HOST = re.compile(r"^(?:https?://)?(?:[a-z0-9-]+\.)*amazon\.[a-z.]{2,12}(?:[/:?#]|$)", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HTML = re.compile(r"<\s*/?\s*(?:html|body|div|p|br|a|span|table|b|i|strong|em|img|font|ul|li)\b[^>]*>", re.IGNORECASE)


def relay_site(address: str) -> str | None:
    """The marketplace site of a relay address ("amazon.de"), else None (not a relay address)."""
    match = RELAY_DOMAIN.search(address.strip())
    return match.group(1).lower() if match else None


def is_relay_address(address: str) -> bool:
    return relay_site(address) is not None


def buyer_name(display_name: str) -> str:
    """ "Jane Doe - Amazon Marketplace" -> "Jane Doe"."""
    return _NAME_SUFFIX.sub("", display_name).strip() or display_name.strip()


_MARKER = re.compile(r"^\s*-{5,}\s*[^-\n]{1,60}?\s*-{5,}\s*$", re.MULTILINE)


def relay_message_text(text: str) -> str:
    """The buyer's words of a relay e-mail: Amazon wraps them between marker lines
    ("------------- Message: -------------" ... "------------- End message -------------", in the
    marketplace's language) above its own footer."""
    markers = list(_MARKER.finditer(text))
    if len(markers) >= 2:
        inner = text[markers[0].end() : markers[1].start()].strip()
        if inner:
            return inner
    return text.strip()


def order_number(*texts: str) -> str | None:
    for text in texts:
        match = ORDER_NUMBER.search(text or "")
        if match:
            return match.group(1)
    return None


def pick_amazon_store(site: str, amazon_stores: Mapping[int, str]) -> int | None:
    """The Amazon store (id -> site) a relay message of `site` belongs to: the one of that site, else
    the only one; None when there is none or several of other sites."""
    exact = [store_id for store_id, store_site in amazon_stores.items() if store_site.lower() == site]
    if exact:
        return min(exact)
    if len(amazon_stores) == 1:
        return next(iter(amazon_stores))
    return None


def relay_conversation_id(*, mailbox_store_id: int, address: str, order: str | None) -> str:
    return f"amazon-relay:{mailbox_store_id}:{address.lower()}:{order or ''}"[:200]


@dataclass(frozen=True)
class RelayConversation:
    mailbox_store_id: int
    address: str


def parse_relay_conversation(conversation_id: str) -> RelayConversation | None:
    match = _CONVERSATION.match(conversation_id or "")
    if match is None:
        return None
    return RelayConversation(mailbox_store_id=int(match.group("mailbox")), address=match.group("address"))


@dataclass(frozen=True)
class RuleProblem:
    field: str
    reason: str  # English; the inbox translates the known ones


def relay_reply_problems(body: str, attachments: list[tuple[str, int, str]]) -> list[RuleProblem]:
    """What in a draft breaks Amazon's messaging rules. `attachments`: (name, size, sniffed type)."""
    problems: list[RuleProblem] = []
    if _HTML.search(body):
        problems.append(RuleProblem("body", "html"))
    external = [link for link in _LINK.findall(body) if not _AMAZON_HOST.match(link)]
    if external:
        problems.append(RuleProblem("body", f"link:{external[0]}"))
    addresses = [a for a in _EMAIL.findall(body) if not is_relay_address(a)]
    if addresses:
        problems.append(RuleProblem("body", f"email:{addresses[0]}"))
    for index, (name, _size, content_type) in enumerate(attachments):
        if content_type not in ALLOWED_ATTACHMENT_TYPES:
            problems.append(RuleProblem(f"attachments[{index}]", f"type:{name}:{content_type}"))
    if sum(size for _name, size, _type in attachments) > MAX_ATTACHMENTS_BYTES:
        problems.append(RuleProblem("attachments", "size"))
    return problems
