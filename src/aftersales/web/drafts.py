"""The reply box's translated draft, carried in the form between "Translate", "Use template" and
"Send": the text in the customer's language (editable), what it was made from, the
back-translation to check it, and how it was made (provider, quality, markers).

Nothing of it is stored before sending: the hidden fields come back with the form. They only
describe the agent's own reply (recorded with language.services.reply_record_translation), so a
tampered field can mislabel that reply and nothing else; they are still bounded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from aftersales.language.languages import VARIANTS
from aftersales.language.services import ReplyDraft
from aftersales.language.templates import Macro, Rendered

from .translations import Flag, flag_label, quality_label

QUALITIES = frozenset({"draft", "machine", "memory", "template", "original"})
MAX_TEXT = 20_000
MAX_LABEL = 60


def _clean(value: Any, limit: int = MAX_LABEL) -> str:
    return str(value or "").strip()[:limit]


@dataclass(frozen=True)
class DraftState:
    text: str  # what is sent: the customer's language
    source: str  # the agent's text it was made from (to notice later edits)
    back_translation: str  # translation of `text` into the agent's language, or the template in it
    origin: str = "translation"  # "translation" | "template"
    provider: str = ""
    quality: str = "machine"
    flags: tuple[str, ...] = ()
    glossary_applied: tuple[str, ...] = ()
    tm_applied: bool = False
    variant_id: int | None = None  # a template variant to review
    language_variant: str = ""  # the regional variant the text is written in ("pt-BR"), "" when none

    @property
    def quality_label(self) -> str:
        return quality_label(self.quality)

    @property
    def flag_items(self) -> list[Flag]:
        return [Flag(f, flag_label(f), f in ("placeholders_lost", "needs_review")) for f in self.flags]

    @property
    def needs_review(self) -> bool:
        return "needs_review" in self.flags

    @classmethod
    def of_draft(cls, draft: ReplyDraft) -> DraftState:
        return cls(
            text=draft.text,
            source=draft.original_text,
            back_translation=draft.back_translation,
            provider=draft.provider,
            quality=draft.quality,
            flags=tuple(draft.flags),
            glossary_applied=tuple(draft.glossary_applied),
            tm_applied=draft.tm_applied,
            language_variant=draft.variant,
        )

    @classmethod
    def of_template(
        cls, rendered: Rendered, *, source: str, in_agent_language: str, variant_id: int | None
    ) -> DraftState:
        return cls(
            text=rendered.text,
            source=source,
            back_translation=in_agent_language,
            origin="template",
            provider=rendered.provider if rendered.machine_translated else "",
            quality="machine" if rendered.machine_translated else "template",
            flags=("needs_review",) if rendered.needs_review else (),
            variant_id=variant_id if rendered.needs_review else None,
        )

    @classmethod
    def from_post(cls, data: Any) -> DraftState | None:
        """The draft posted back with the reply form; None when there is none (send as written)."""
        text = str(data.get("draft", "")).strip()
        if not text:
            return None
        quality = _clean(data.get("draft_quality"))
        variant = _clean(data.get("draft_variant"))
        language_variant = _clean(data.get("draft_language_variant"))
        return cls(
            text=text[:MAX_TEXT],
            source=str(data.get("draft_source", "")).strip()[:MAX_TEXT],
            back_translation=str(data.get("back_translation", "")).strip()[:MAX_TEXT],
            origin="template" if data.get("draft_origin") == "template" else "translation",
            provider=_clean(data.get("draft_provider")),
            quality=quality if quality in QUALITIES else "machine",
            flags=tuple(_clean(f) for f in data.getlist("draft_flags")[:10] if _clean(f)),
            glossary_applied=tuple(_clean(t, 200) for t in data.getlist("draft_glossary")[:50] if _clean(t, 200)),
            tm_applied=data.get("draft_tm") == "1",
            variant_id=int(variant) if variant.isdigit() else None,
            # only a known variant: a tampered field cannot label the reply with anything else
            language_variant=language_variant if language_variant in VARIANTS else "",
        )

    def reply_draft(self, *, original_language: str, language: str) -> ReplyDraft:
        """The engine's ReplyDraft for reply_record_translation (what was sent, and how it was made)."""
        return ReplyDraft(
            original_text=self.source,
            original_language=original_language,
            text=self.text,
            language=language,
            back_translation=self.back_translation,
            provider=self.provider or ("template" if self.origin == "template" else "agent"),
            quality=self.quality,
            glossary_applied=self.glossary_applied,
            tm_applied=self.tm_applied,
            flags=self.flags,
            variant=self.language_variant,
        )


def reply_values(data: Mapping[str, Any], draft: DraftState | None = None) -> dict[str, Any]:
    """What the reply box shows again after an action: the agent's text, status, the draft, and
    the template the reply was built from (its macro is applied when it is sent)."""
    return {
        "body": str(data.get("body", "")),
        "status": str(data.get("status", "")),
        "draft": draft,
        "applied_template_id": applied_template_id(data),
    }


def applied_template_id(data: Mapping[str, Any]) -> int | None:
    """The reply template the reply box was filled from (hidden `applied_template_id`), or None."""
    raw = str(data.get("applied_template_id", "") or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def macro_summary(macro: Macro, *, assignee_name: str = "") -> list[str]:
    """What sending this reply will also do, in the agent's words."""
    from aftersales.inbox.workflow import TicketStatus

    lines = []
    if macro.set_status:
        label = dict(TicketStatus.choices).get(macro.set_status, macro.set_status)
        lines.append(_("set the status to %(status)s (unless you choose one)") % {"status": label})
    if macro.add_tags:
        lines.append(_("add the tags %(tags)s") % {"tags": ", ".join(macro.add_tags)})
    if macro.assign_to == "self":
        lines.append(_("assign the ticket to you"))
    elif macro.assign_to == "none":
        lines.append(_("unassign the ticket"))
    elif macro.assign_to == "user" and assignee_name:
        lines.append(_("assign the ticket to %(user)s") % {"user": assignee_name})
    return lines
