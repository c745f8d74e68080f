"""`manage.py mail_import --store ID PATH...`: import e-mail from another helpdesk or a mail archive.

Each PATH is an .eml file, an mbox file or a Maildir folder (cur/ and new/), imported in the order
given (an mbox in its own order, a Maildir's messages by file name, i.e. by delivery time). Every
message goes through exactly the pipeline an IMAP fetch uses (channels.sync.receive_records: stored
raw, deduplicated on its Message-ID, mapped by the e-mail connector, threaded by the inbox), so a
second import of the same files changes nothing. One JSON line per message is printed:

    {"file": ..., "message_id": ..., "action": "new_ticket" | "thread" | "ignored_autoreply" |
     "ignored_bounce" | "duplicate", "ticket_id": ...}

and "quarantined" (with a "reason") for a message that cannot be read (it is kept raw, shown to
the seller and can be retried after a fix), "ignored" for other ignored mail (the seller's own)."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.catalog.models import Platform, Store
from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.connectors.email.mapping import dedupe_id
from aftersales.channels.sync import RecordOutcome, receive_records

BATCH = 50


def messages_of(path: Path) -> Iterator[tuple[str, bytes]]:
    """(file label, RFC 822 bytes) of every message under `path`, in order."""
    if path.is_dir():
        if not ((path / "cur").is_dir() or (path / "new").is_dir()):
            raise CommandError(f"{path} is a folder but not a Maildir (no cur/ or new/)")
        files = [f for sub in ("cur", "new") if (path / sub).is_dir() for f in (path / sub).iterdir() if f.is_file()]
        for file in sorted(files, key=lambda f: f.name):  # Maildir names start with the delivery time
            yield str(file), file.read_bytes()
        return
    if not path.is_file():
        raise CommandError(f"{path} does not exist")
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        box = mailbox.mbox(str(path), create=False)
        try:
            for index, key in enumerate(box.keys(), start=1):
                yield f"{path}#{index}", box.get_bytes(key)
        finally:
            box.close()
        return
    yield str(path), path.read_bytes()


def action_of(outcome: RecordOutcome) -> str:
    if outcome.action == "bounce":
        return "ignored_bounce"
    if outcome.action == "ignored":
        if outcome.reason.startswith("autoreply"):
            return "ignored_autoreply"
        if outcome.reason.startswith("bounce"):
            return "ignored_bounce"
    return outcome.action


class Command(BaseCommand):
    help = "Import .eml files, mbox files or Maildir folders into a mailbox store, in the order given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", type=int, required=True, help="The mailbox store (platform email) id")
        parser.add_argument("paths", nargs="+", help=".eml file, mbox file or Maildir folder")

    def handle(self, *args: Any, **options: Any) -> None:
        store = Store.objects.filter(pk=options["store"]).first()
        if store is None:
            raise CommandError(f"no store with id {options['store']}")
        if store.platform != Platform.EMAIL:
            raise CommandError(f"store {store.pk} is a {store.platform} store, not a mailbox (platform email)")
        paths = [Path(p) for p in options["paths"]]
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist")
        batch: list[tuple[str, RawRecord]] = []
        for path in paths:
            for label, raw in messages_of(path):
                record = RawRecord(stream=Stream.MESSAGES, event_id=dedupe_id(raw), payload={"import": label}, raw=raw)
                batch.append((label, record))
                if len(batch) >= BATCH:
                    self._flush(store, batch)
                    batch = []
        self._flush(store, batch)

    def _flush(self, store: Store, batch: list[tuple[str, RawRecord]]) -> None:
        if not batch:
            return
        outcomes = receive_records(store=store, records=[record for _label, record in batch], source="mail_import")
        for (label, record), outcome in zip(batch, outcomes, strict=True):
            line: dict[str, Any] = {
                "file": label,
                "message_id": record.event_id,
                "action": action_of(outcome),
                "ticket_id": outcome.ticket_id,
            }
            if outcome.action == "quarantined":
                line["reason"] = outcome.reason
            self.stdout.write(json.dumps(line, ensure_ascii=False))
