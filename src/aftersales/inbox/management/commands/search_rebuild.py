from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftersales.inbox.services import search_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the free-text search documents of all tickets (or one organization's). Safe to run on a live "
        "install and to interrupt; migrations run it once. See docs/adr/0012-ticket-search.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, help="only this organization id")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, seconds: float) -> None:
            if done % (options["batch_size"] * 25) == 0:
                self.stdout.write(f"  {done:,} tickets, {done / seconds:,.0f}/s")

        done = search_rebuild(
            organization_id=options["organization"], batch_size=options["batch_size"], progress=progress
        )
        self.stdout.write(self.style.SUCCESS(f"rebuilt the search documents of {done:,} ticket(s)"))
