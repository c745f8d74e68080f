"""zh-Hans is complete for what the services and the domain models show to users.

(a) Every label of every TextChoices class of the domain apps has a zh-Hans translation (differs
    from the English label), except proper nouns (platform and product names) listed below.
(b) No domain error (ValidationFailed, NotFound, Conflict, PermissionDenied) is raised with a bare
    string or f-string: messages go through gettext (named placeholders for the variable parts),
    and every such message has a zh-Hans translation.
The ticket page's order and shipment statuses in zh-Hans: web/tests/test_i18n_statuses.py."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from django.db import models
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "aftersales"
DOMAIN_APPS = ["accounts", "catalog", "channels", "core", "inbox", "language", "notifications", "sla", "followups"]
ERRORS = {"ValidationFailed", "NotFound", "Conflict", "PermissionDenied", "DomainError"}
GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy", "_lazy"}

# Labels that are names and read the same in Chinese (marketplaces, engines, codes).
PROPER_NOUNS = {
    "Webhook",  # kept in Latin letters in Chinese UIs, like API
    "Amazon",
    "eBay",
    "Shopee",
    "AliExpress",
    "TikTok Shop",
    "Wish",
    "Shopify",
    "WhatsApp",
    "Facebook Messenger",
    "VIP",
    "DeepL",
    "Apertium",
    "Argos Translate",
    "LibreTranslate",
    "OpenAI",
    "Google",
    "Microsoft",
    "English",  # the language picker shows each language in its own name
    "简体中文",  # (already Chinese)
    # translation engines, by their product names
    "Apertium (offline)",
    "OpenAI-compatible (DeepSeek, Qwen, Ollama, vLLM, OpenAI)",
    "Google Cloud Translation v3",
    "Azure AI Translator",
}


def _choices_classes() -> list[type[models.TextChoices]]:
    found: list[type[models.TextChoices]] = []
    for app in DOMAIN_APPS:
        for path in sorted((PACKAGE / app).rglob("*.py")):
            rel = path.relative_to(PACKAGE).with_suffix("")
            if "tests" in rel.parts or "migrations" in rel.parts:
                continue
            module = importlib.import_module("aftersales." + ".".join(rel.parts).removesuffix(".__init__"))
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, models.TextChoices) and cls.__module__ == module.__name__:
                    found.append(cls)
    return found


def test_the_scan_finds_the_status_choices():
    names = {cls.__name__ for cls in _choices_classes()}
    assert {"TicketStatus", "OrderStatus", "ShipmentStatus", "Platform", "CustomerTier"} <= names


@pytest.mark.parametrize("choices", _choices_classes(), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_choice_label_is_translated(choices):
    untranslated = []
    for member in choices:
        with translation.override("en"):
            english = str(member.label)
        with translation.override("zh-hans"):
            chinese = str(member.label)
        if chinese == english and english not in PROPER_NOUNS:
            untranslated.append(english)
    assert not untranslated, f"{choices.__name__}: no zh-Hans label for {untranslated}"


def _python_files() -> list[Path]:
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if "tests" not in p.relative_to(PACKAGE).parts
        and "migrations" not in p.parts
        and p.parent.name not in ("testing", "demo")
    ]


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_gettext(node: ast.expr) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_gettext(node.left)
    return isinstance(node, ast.Call) and _name(node.func) in GETTEXT


def _error_calls(tree: ast.AST):  # type: ignore[no-untyped-def]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in ERRORS and node.args:
            yield node


def test_domain_errors_are_raised_with_gettext_messages():
    bare = []
    for path in _python_files():
        if path.name == "errors.py" and path.parent.name == "core":
            continue  # the classes themselves
        tree = ast.parse(path.read_text(), str(path))
        for call in _error_calls(tree):
            message = call.args[0]
            if isinstance(message, ast.Constant | ast.JoinedStr) or (
                isinstance(message, ast.BinOp) and not _is_gettext(message)
            ):
                bare.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not bare, "error messages not wrapped in gettext:\n" + "\n".join(bare)


def _msgids() -> list[tuple[str, str, str | None]]:
    """(where, msgid, context) of every gettext message given to a domain error."""
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), str(path))
        for call in _error_calls(tree):
            message = call.args[0]
            while isinstance(message, ast.BinOp):
                message = message.left
            if not (isinstance(message, ast.Call) and _name(message.func) in GETTEXT):
                continue
            args = [a.value for a in message.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if _name(message.func).startswith("pgettext") and len(args) >= 2:
                found.append((f"{path.relative_to(ROOT)}:{call.lineno}", args[1], args[0]))
            elif args:
                found.append((f"{path.relative_to(ROOT)}:{call.lineno}", args[0], None))
    return found


def test_every_error_message_has_a_zh_hans_translation():
    messages = _msgids()
    assert len(messages) > 100  # the scan sees the services' messages
    missing = []
    with translation.override("zh-hans"):
        for where, msgid, context in messages:
            chinese = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
            if chinese == msgid:
                missing.append(f"{where}: {msgid}")
    assert not missing, "no zh-Hans translation:\n" + "\n".join(sorted(set(missing)))
