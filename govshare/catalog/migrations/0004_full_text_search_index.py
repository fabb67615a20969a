"""Full-text index over Resource.search_tokens (jieba tokens, see govshare/catalog/search_text.py).

Debian's PostgreSQL has no zhparser, so the tokens are segmented in Python and indexed as plain words:
- SQLite: an FTS5 table with external content (rowid = resource id) kept in sync by triggers.
- PostgreSQL: a GIN index on to_tsvector('simple', search_tokens); queries use the same expression.

Note for later migrations on SQLite: when Django rebuilds catalog_resource (some AlterField operations), the
table's triggers are dropped with it. govshare.catalog.search.ensure_search_index (run after every migrate)
recreates them and rebuilds the index when they were missing.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_resource_fts USING fts5("
    "search_tokens, content='catalog_resource', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS catalog_resource_fts_insert AFTER INSERT ON catalog_resource BEGIN "
    "INSERT INTO catalog_resource_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_resource_fts_delete AFTER DELETE ON catalog_resource BEGIN "
    "INSERT INTO catalog_resource_fts(catalog_resource_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_resource_fts_update AFTER UPDATE OF search_tokens ON catalog_resource "
    "BEGIN INSERT INTO catalog_resource_fts(catalog_resource_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); "
    "INSERT INTO catalog_resource_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "INSERT INTO catalog_resource_fts(catalog_resource_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_resource_fts_insert",
    "DROP TRIGGER IF EXISTS catalog_resource_fts_delete",
    "DROP TRIGGER IF EXISTS catalog_resource_fts_update",
    "DROP TABLE IF EXISTS catalog_resource_fts",
]
POSTGRES_FORWARD = [
    "CREATE INDEX IF NOT EXISTS catalog_resource_search_gin ON catalog_resource "
    "USING gin (to_tsvector('simple', search_tokens))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS catalog_resource_search_gin"]


def _run(schema_editor, statements_by_vendor):  # type: ignore[no-untyped-def]
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD})


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_import_batches_and_duplicate_candidates"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
