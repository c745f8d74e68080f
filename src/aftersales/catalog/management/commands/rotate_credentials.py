from django.core.management.base import BaseCommand

from aftersales.catalog.services import stores_rotate_credentials
from aftersales.channels.marketplace_apps import marketplace_apps_rotate_credentials
from aftersales.tracking.services import tracking_accounts_rotate_credentials


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the first key of FIELD_ENCRYPTION_KEYS (see docs/operations.md)."

    def handle(self, *args: object, **options: object) -> None:
        count = stores_rotate_credentials()
        self.stdout.write(self.style.SUCCESS(f"re-encrypted the credentials of {count} store(s)"))
        tracking = tracking_accounts_rotate_credentials()
        self.stdout.write(self.style.SUCCESS(f"re-encrypted the API keys of {tracking} tracking account(s)"))
        apps = marketplace_apps_rotate_credentials()
        self.stdout.write(self.style.SUCCESS(f"re-encrypted the keys of {apps} marketplace app(s)"))
