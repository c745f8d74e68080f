"""Register new shipments and poll the due ones now, for one tracking account or every active one;
prints one JSON line per account: {"account", "registered", "rejected", "polled", "events_created",
"status_changes", "unmappable", "error"}."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftersales.channels.base import ConnectorError
from aftersales.tracking.selectors import active_tracking_account_ids
from aftersales.tracking.services import shipments_register, tracking_poll


class Command(BaseCommand):
    help = "Register and poll parcel tracking now (what the periodic sweep does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="a TrackingAccount id (default: every active account)")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = [options["account"]] if options.get("account") else active_tracking_account_ids()
        for account_id in ids:
            line: dict[str, Any] = {"account": account_id, "error": ""}
            try:
                registered = shipments_register(account_id=account_id)
                polled = tracking_poll(account_id=account_id)
                line.update(
                    registered=registered.registered,
                    rejected=registered.rejected,
                    polled=polled.polled,
                    events_created=polled.events_created,
                    status_changes=polled.status_changes,
                    unmappable=polled.unmappable,
                )
            except ConnectorError as exc:
                line["error"] = str(exc)
            self.stdout.write(json.dumps(line))
