"""SQLite only: an FTS5 index of the search documents, so a search reads its matches instead of every
document (docs/adr/0013-sqlite-fts5-search.md). PostgreSQL keeps its GIN index (migration 0007): this
migration does nothing there.

`inbox_ticketsearch_fts` is an external-content FTS5 table over inbox_ticketsearch.document (rowid =
ticket_id; the text is not stored twice). Triggers on inbox_ticketsearch keep it in sync with every
writer: the services' upserts, the demo generator's bulk inserts, Django's deletes. The `ascii`
tokenizer splits on ASCII white space and punctuation only and lowercases ASCII letters: our tokens
(inbox/search.py) hold only (lowercase) letters and digits, so each is exactly one FTS5 token, CJK
bigrams included, without any dependence on SQLite's Unicode tables. The index is filled from the
existing documents ('rebuild': about 2 s per 100,000 tickets)."""

from django.db import migrations

TABLE = "inbox_ticketsearch_fts"
CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "document, content='inbox_ticketsearch', content_rowid='ticket_id', tokenize='ascii')",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON inbox_ticketsearch BEGIN
        INSERT INTO {TABLE}(rowid, document) VALUES (new.ticket_id, new.document);
    END""",  # noqa: S608
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON inbox_ticketsearch BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, document) VALUES ('delete', old.ticket_id, old.document);
    END""",  # noqa: S608
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE ON inbox_ticketsearch BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, document) VALUES ('delete', old.ticket_id, old.document);
        INSERT INTO {TABLE}(rowid, document) VALUES (new.ticket_id, new.document);
    END""",  # noqa: S608
    f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')",  # noqa: S608
]
DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0009_ticketevent_actor")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
