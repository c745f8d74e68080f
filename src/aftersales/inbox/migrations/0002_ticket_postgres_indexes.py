"""PostgreSQL-only indexes of the ticket table (docs/adr/0003-inbox-indexes.md).

- ticket_org_last_customer: the inbox sort `-last_customer_message_at` is NULLS LAST (tickets the
  customer never wrote on go last). A B-tree can only serve it if built that way, and SQLite
  refuses NULLS LAST in an index, so this one cannot live in Ticket.Meta.indexes.
- ticket_subject_trgm: trigram GIN index for `q` on subjects (`UPPER(subject) LIKE UPPER('%...%')`,
  which is what icontains compiles to). Needs the pg_trgm extension (trusted since PostgreSQL 13:
  the database owner may create it). Without the privilege the index is skipped with a warning:
  search still works, only slower.

CREATE INDEX CONCURRENTLY, so that an existing install keeps taking messages while it builds:
hence atomic = False. On SQLite (and any other backend) these operations do nothing."""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

LAST_CUSTOMER = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_org_last_customer ON inbox_ticket "
    "(organization_id, last_customer_message_at DESC NULLS LAST, id DESC)"
)
SUBJECT_TRGM = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_subject_trgm ON inbox_ticket "
    "USING gin ((UPPER(subject::text)) gin_trgm_ops)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(LAST_CUSTOMER)
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # no privilege to create the extension: skip the search index
            logger.warning("pg_trgm unavailable (%s): ticket_subject_trgm not created; search stays unindexed", exc)
            return
        cursor.execute(SUBJECT_TRGM)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_subject_trgm")
        cursor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_org_last_customer")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
