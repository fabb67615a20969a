import importlib

from govshare.catalog import search


def test_index_repair_creates_exactly_what_the_migration_created() -> None:
    # Migrations must not import app code, so the DDL stands twice; this keeps the two from drifting apart.
    migration = importlib.import_module("govshare.catalog.migrations.0004_full_text_search_index")
    assert search._SQLITE_INDEX_DDL == migration.SQLITE_FORWARD
