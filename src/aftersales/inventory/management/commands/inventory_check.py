from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from aftersales.inventory.services import stock_rebuild


class Command(BaseCommand):
    help = (
        "Compare every stock level with the sum of its ledger movements and list the mismatches "
        "(--fix rewrites the levels from the ledger). Exit status 1 when mismatches were found without --fix."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--organization", type=int, default=None, help="Only this organization id")
        parser.add_argument("--fix", action="store_true", help="Rewrite the stock levels from the ledger")

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = stock_rebuild(organization_id=options["organization"], fix=options["fix"])
        for m in mismatches:
            self.stdout.write(
                f"warehouse {m.warehouse_id} {m.sku}: stored on hand {m.stored_on_hand} reserved {m.stored_reserved},"
                f" ledger on hand {m.ledger_on_hand} reserved {m.ledger_reserved}"
            )
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("stock levels match the ledger"))
        elif options["fix"]:
            self.stdout.write(self.style.SUCCESS(f"fixed {len(mismatches)} stock level(s)"))
        else:
            self.stdout.write(self.style.WARNING(f"{len(mismatches)} stock level(s) differ from the ledger"))
