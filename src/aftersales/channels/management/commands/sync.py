"""manage.py sync --store ID [--stream S] [--since DATE] [--max-pages N]

Runs one sync of the store's pulled streams (all its connector pulls, or the one named), in this
process, and prints one JSON line per run: {"store", "stream", "status", "pages", "records",
"created", "updated", "unchanged", "duplicates", "ignored", "quarantined", "errors", "error",
"duration_ms", "run_id"}. Exit status 1 when a run failed or paused the store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.catalog.models import Store
from aftersales.channels.base import Stream
from aftersales.channels.models import SyncRunStatus
from aftersales.channels.sync import pull_streams, sync_stream


def _since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time.min)
        except ValueError as exc:
            raise CommandError(f"--since: not a date or date-time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Sync a store's streams from its platform now (one JSON line per run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", type=int, required=True, help="Store id")
        parser.add_argument("--stream", choices=[s.value for s in Stream], help="One stream (default: all pulled)")
        parser.add_argument("--since", help="Start from this date (YYYY-MM-DD or ISO 8601) instead of the cursor")
        parser.add_argument("--max-pages", type=int, default=None, help="Stop after N pages per stream")

    def handle(self, *args: Any, **options: Any) -> None:
        store = Store.objects.filter(pk=options["store"]).first()
        if store is None:
            raise CommandError(f"no store with id {options['store']}")
        since = _since(options["since"]) if options.get("since") else None
        streams = [Stream(options["stream"])] if options.get("stream") else pull_streams(store)
        if not streams:
            raise CommandError(f"the {store.platform} connector pulls no stream")
        failed = False
        for stream in streams:
            run = sync_stream(store_id=store.pk, stream=stream, since=since, max_pages=options.get("max_pages"))
            failed = failed or run.status in (SyncRunStatus.FAILED, SyncRunStatus.PAUSED)
            line = {
                "store": store.pk,
                "stream": run.stream,
                "status": run.status,
                "pages": run.pages,
                "records": run.records,
                "created": run.created,
                "updated": run.updated,
                "unchanged": run.unchanged,
                "duplicates": run.duplicates,
                "ignored": run.ignored,
                "quarantined": run.quarantined,
                "errors": run.errors,
                "error": run.error,
                "duration_ms": run.duration_ms,
                "run_id": run.pk,
            }
            self.stdout.write(json.dumps(line))
        if failed:
            raise SystemExit(1)
