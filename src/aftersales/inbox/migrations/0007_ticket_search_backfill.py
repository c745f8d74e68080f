"""Fill every existing ticket's search document, index it, and drop the trigram indexes it replaces
(docs/adr/0012-ticket-search.md).

- Backfill: `search_rebuild` in batches of 2,000 tickets, one transaction each (about 1.5 minutes
  per million tickets on 2 cores, see bench/RESULTS.md). Interrupted, it can simply run again, as can
  `manage.py search_rebuild`.
- PostgreSQL: GIN index `ticket_search_document` on inbox_ticketsearch.document, built after the
  backfill and CONCURRENTLY (a live install keeps taking messages); the trigram indexes of
  migrations 0002/0004 on subjects, customer names and message bodies are dropped: search no longer
  reads those columns, and `message_body_trgm` alone was 705 MB at 1M tickets and a cost on every
  message written. The pg_trgm extension itself is left in place.
On SQLite only the backfill runs."""

from django.db import migrations

GIN = "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search_document ON inbox_ticketsearch USING gin (document)"
TRIGRAM = {
    "ticket_subject_trgm": "ON inbox_ticket USING gin ((UPPER(subject::text)) gin_trgm_ops)",
    "customer_name_trgm": "ON catalog_customer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "message_body_trgm": "ON inbox_message USING gin ((UPPER(body)) gin_trgm_ops)",
}


def backfill(apps, schema_editor):
    from aftersales.inbox.services.search import search_rebuild

    search_rebuild(
        ticket_model=apps.get_model("inbox", "Ticket"),
        message_model=apps.get_model("inbox", "Message"),
        search_model=apps.get_model("inbox", "TicketSearch"),
    )


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(GIN)
        for name in TRIGRAM:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_document")
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is not None:
            for name, definition in TRIGRAM.items():
                cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0006_ticket_search")]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
