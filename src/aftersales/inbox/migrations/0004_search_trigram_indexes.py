"""PostgreSQL-only trigram indexes for the inbox's free-text search (docs/adr/0003-inbox-indexes.md):
customer names and message bodies, matched with `UPPER(col) LIKE UPPER('%...%')` (Django's
icontains). Needs pg_trgm (created by 0002 when allowed); without it the indexes are skipped with a
warning and search still works, only slower. Built CONCURRENTLY so a live install keeps working."""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

INDEXES = {
    "customer_name_trgm": "ON catalog_customer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "message_body_trgm": "ON inbox_message USING gin ((UPPER(body)) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            logger.warning("pg_trgm is not installed: search indexes on names and messages not created")
            return
        for name, definition in INDEXES.items():
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0003_ticket_language_detected_event"), ("catalog", "0002_search_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
