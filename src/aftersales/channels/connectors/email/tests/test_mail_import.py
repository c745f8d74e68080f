"""manage.py mail_import: .eml files, an mbox and a Maildir, in the order given, through the same
pipeline as an IMAP fetch; one JSON line per message."""

from __future__ import annotations

import json
import mailbox
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from aftersales.catalog.models import Platform
from aftersales.inbox.models import Message, Ticket
from aftersales.testing.factories import StoreFactory

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str) -> list[dict]:
    out = StringIO()
    call_command("mail_import", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def message(message_id: str, *, subject: str = "Broken lid", extra: str = "", body: str = "It is broken.") -> bytes:
    return (
        f"From: Jane <jane@example.com>\r\nTo: support@gadgets.example\r\nSubject: {subject}\r\n"
        f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: {message_id}\r\n{extra}\r\n{body}\r\n"
    ).encode()


@pytest.fixture
def mailbox_store(world):  # type: ignore[no-untyped-def]
    store = StoreFactory(organization=world.org, name="Imported mailbox", platform=Platform.EMAIL, site="")
    store.credentials = {"address": "support@gadgets.example"}
    store.save()
    return store


def test_eml_mbox_and_maildir_in_the_order_given(mailbox_store, tmp_path):
    first = tmp_path / "first.eml"
    first.write_bytes(message("<m1@example.com>"))
    box_path = tmp_path / "archive.mbox"
    box = mailbox.mbox(str(box_path))
    box.add(message("<m2@example.com>", subject="Re: Broken lid", extra="In-Reply-To: <m1@example.com>\r\n"))
    box.add((FIXTURES / "autoreply_rfc3834.eml").read_bytes())
    box.close()
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    maildir.add((FIXTURES / "bounce_rfc3464.eml").read_bytes())
    maildir.add((FIXTURES / "shift_jis_gmail_ja.eml").read_bytes())
    maildir.close()

    lines = run("--store", str(mailbox_store.pk), str(first), str(box_path), str(tmp_path / "Maildir"))
    actions = [(line["message_id"], line["action"]) for line in lines]
    assert actions[:3] == [
        ("<m1@example.com>", "new_ticket"),
        ("<m2@example.com>", "thread"),
        ("<auto-0019@example.com>", "ignored_autoreply"),
    ]
    assert {a for _id, a in actions[3:]} == {"ignored_bounce", "new_ticket"}
    assert lines[0]["file"] == str(first) and lines[1]["file"] == f"{box_path}#1"
    assert lines[0]["ticket_id"] == lines[1]["ticket_id"] is not None
    assert lines[2]["ticket_id"] is None
    japanese = next(line for line in lines if line["message_id"] == "<sjis-0003@example.jp>")
    ticket = Ticket.objects.get(pk=japanese["ticket_id"])
    assert ticket.subject == "返品について①"
    assert ticket.messages.get().body_display == "返品したいです。箱は①番の状態です。"

    # importing the same files again changes nothing
    again = run("--store", str(mailbox_store.pk), str(first), str(box_path), str(tmp_path / "Maildir"))
    assert {line["action"] for line in again} == {"duplicate"}
    assert Message.objects.filter(store=mailbox_store).count() == 3


def test_every_fixture_imports_without_quarantine(mailbox_store):
    paths = sorted(str(p) for p in FIXTURES.glob("*.eml"))
    lines = run("--store", str(mailbox_store.pk), *paths)
    assert len(lines) == len(paths)
    by_action: dict[str, int] = {}
    for line in lines:
        by_action[line["action"]] = by_action.get(line["action"], 0) + 1
    assert "quarantined" not in by_action, [line for line in lines if line["action"] == "quarantined"]
    assert by_action["ignored_autoreply"] == 7 and by_action["ignored_bounce"] == 2
    attachments = Message.objects.get(external_id="<attachments-0018@example.com>")
    assert sorted(a.filename for a in attachments.attachments.all()) == ["photo1.png", "发票.pdf"]
    assert "archive.zip" in attachments.body  # left out, and said so
    html = Message.objects.get(external_id="<html-only-0016@mail.gmail.com>")
    assert "<script" not in html.body_html and "data-remote-src" in html.body_html  # sanitised, pixel parked


def test_refuses_bad_arguments(mailbox_store, world, tmp_path):
    with pytest.raises(CommandError, match="not a mailbox"):
        run("--store", str(world.store_us.pk), str(FIXTURES / "gmail_en_reply.eml"))
    with pytest.raises(CommandError, match="does not exist"):
        run("--store", str(mailbox_store.pk), str(tmp_path / "missing.eml"))
    with pytest.raises(CommandError, match="not a Maildir"):
        run("--store", str(mailbox_store.pk), str(tmp_path))
