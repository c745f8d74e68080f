"""Request and response bodies of the agent actions on tickets and messages."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from aftersales.accounts.models import UserLanguage
from aftersales.inbox.workflow import TicketCategory, TicketStatus, Urgency

from .common import Id, InputSchema, UserRef
from .tickets import MessageOut


class AttachmentIn(InputSchema):
    filename: str = Field(..., max_length=255)
    content_type: str = Field("", max_length=100, description="Declared type; the real type is sniffed")
    content_base64: str = Field(..., description="The file's bytes, base64-encoded (standard alphabet)")


class ReplyIn(InputSchema):
    body: str = Field(..., description="The text sent to the customer (e.g. the `text` of a reply draft)")
    status: TicketStatus | None = Field(None, description="Status after the reply (default: by the workflow)")
    attachments: list[AttachmentIn] = []
    original_text: str | None = Field(
        None,
        max_length=20_000,
        description="When `body` is a translation: what you wrote in your language, kept with the reply",
    )
    original_language: UserLanguage | None = Field(
        None, description="The working language of `original_text` (with `original_text`)"
    )
    confirm_language: bool = Field(
        False,
        description="Send `body` as written even though it reads as another language than the customer's "
        "(without it, such a reply sent with no `original_text` is refused: 422 on `confirm_language` "
        "naming both languages). Short texts are never refused.",
    )
    seen_message_id: Id | None = Field(
        None,
        description="The last message of the ticket you had on screen: a reply to the customer by someone "
        "else after it is refused (409 on `confirm_newer`, naming that reply) unless `confirm_newer`",
    )
    confirm_newer: bool = Field(False, description="Send even though a colleague replied after `seen_message_id`")
    template_id: Id | None = Field(
        None,
        description="The reply template `body` was built from: its macro is applied with the reply (its status "
        "when you send none, its tags and assignment, as you)",
    )


class NoteIn(InputSchema):
    body: str = Field(..., description="Internal note; @username mentions notify colleagues who can see the ticket")
    attachments: list[AttachmentIn] = Field([], description="Files for colleagues (the same checks as a reply's)")


class NoteOut(Schema):
    note: MessageOut
    mentioned: list[UserRef]


class StatusIn(InputSchema):
    status: TicketStatus


class AssignIn(InputSchema):
    assignee_id: Id | None = Field(..., description="A colleague who can process tickets, or null to unassign")


class TicketPatchIn(InputSchema):
    """Only the fields sent are changed. `team_id: null` removes the team."""

    category: TicketCategory | None = None
    urgency: Urgency | None = None
    is_high_priority: bool | None = None
    team_id: Id | None = None
    subject: str | None = Field(None, max_length=300)


class TagsIn(InputSchema):
    add: list[str] = Field([], max_length=50)
    remove: list[str] = Field([], max_length=50)


class TagsOut(Schema):
    tags: list[str]


class MergeIn(InputSchema):
    target_id: Id = Field(..., description="The ticket that receives this ticket's messages")
    confirm_differences: bool = Field(
        False,
        description=(
            "Merge although the customers or stores differ. Without it such a merge answers 409 "
            "(code merge_differences, field confirm_differences) naming the differences."
        ),
    )


class BulkIn(InputSchema):
    ticket_ids: list[Id] = Field(..., min_length=1, max_length=500)
    action: Literal["assign", "tag", "status"]
    value: Id | str | None = Field(
        ..., description="assign: a user id or null; tag: the tag to add; status: the target status"
    )


class BulkFailure(Schema):
    ticket_id: int
    error: str


class BulkSummary(Schema):
    succeeded: int
    failed: int


class BulkOut(Schema):
    summary: BulkSummary
    succeeded: list[int]
    failed: list[BulkFailure]


class TemplateHeaderIn(InputSchema):
    """The template header's parameter: a TEXT header's {{1}}, or an IMAGE / VIDEO / DOCUMENT link."""

    type: str = Field("", max_length=10, description="text, image, video or document (default: the template's)")
    text: str = Field("", max_length=200, description="A text header's {{1}} (at most 60 characters)")
    link: str = Field("", max_length=2000, description="A media header's https:// link")
    filename: str = Field("", max_length=240, description="A document header's file name (optional)")


class TemplateButtonIn(InputSchema):
    index: int = Field(..., ge=0, le=9, description="The button's position in the template, from 0")
    value: str = Field(
        ..., max_length=2000, description="A URL button's dynamic ending ({{1}}), or a quick-reply button's payload"
    )


class TemplateMessageIn(InputSchema):
    name: str = Field(
        ..., max_length=512, description="An approved template of the ticket's store (GET its store page)"
    )
    language: str = Field(..., max_length=20, description="The template's language code, e.g. en_US")
    variables: list[str] = Field(
        [], max_length=20, description="The values of its {{1}}, {{2}}... placeholders, in order, none empty"
    )
    header: TemplateHeaderIn | None = Field(None, description="Its header's parameter, when it takes one")
    buttons: list[TemplateButtonIn] = Field(
        [], max_length=10, description="Parameters of its URL (dynamic ending) and quick-reply buttons"
    )
