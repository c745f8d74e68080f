from django.core.management.base import BaseCommand

from aftersales.core.crypto import rotate_encrypted_fields


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the first key of FIELD_ENCRYPTION_KEYS (see docs/operations.md)."

    def handle(self, *args: object, **options: object) -> None:
        for field, count in rotate_encrypted_fields().items():
            self.stdout.write(self.style.SUCCESS(f"re-encrypted {count} row(s) of {field}"))
