"""Migrations apply from an empty database and from every earlier schema, and keep data."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.core.errors import SchemaTooNewError, StoreError
from companion.core.store import Database, Store, migrations

NAMES = [name for name, _ in migrations.MIGRATIONS]


def test_empty_database_gets_every_migration(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    assert migrations.migrate(db) == NAMES
    assert migrations.applied(db) == NAMES
    assert migrations.migrate(db) == []  # idempotent
    db.close()


@pytest.mark.parametrize("stop_at", NAMES[:-1])
def test_upgrade_from_each_earlier_schema_keeps_rows(tmp_path: Path, stop_at: str) -> None:
    db = Database(tmp_path / "c.db")
    migrations.migrate(db, upto=stop_at)
    assert migrations.applied(db)[-1] == stop_at
    # A photo row exists from the first schema on; it must survive every later step.
    db.execute("INSERT INTO photos (path, content_hash, size, mtime, indexed_at) VALUES ('/p.jpg', 'h', 1, 1, 'now')")
    db.close()
    store = Store.open(tmp_path / "c.db")
    assert migrations.applied(store.db) == NAMES
    assert store.photos.by_path("/p.jpg") is not None
    store.close()


def test_each_migration_is_recorded_in_its_own_transaction(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    migrations.migrate(db, upto=NAMES[0])
    # A broken migration must leave neither its tables nor its record behind.
    broken = (*migrations.MIGRATIONS, ("9999_broken", "CREATE TABLE half_done (x);\nSELECT * FROM no_such_table;"))
    original = migrations.MIGRATIONS
    migrations.MIGRATIONS = broken  # type: ignore[misc]
    try:
        with pytest.raises(StoreError, match="no such table"):
            migrations.migrate(db)
    finally:
        migrations.MIGRATIONS = original  # type: ignore[misc]
    assert "9999_broken" not in migrations.applied(db)
    assert db.query_one("SELECT name FROM sqlite_master WHERE name = 'half_done'") is None
    assert migrations.applied(db) == NAMES  # the good ones before it did commit
    db.close()


def test_database_from_a_newer_companion_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    store.db.execute("INSERT INTO schema_migrations VALUES ('9000_from_the_future', 'later')")
    store.close()
    with pytest.raises(SchemaTooNewError, match="newer Companion"):
        Store.open(tmp_path / "c.db")


def test_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    assert store.db.query_one("PRAGMA journal_mode")[0] == "wal"
    assert store.db.query_one("PRAGMA foreign_keys")[0] == 1
    assert store.db.query_one("PRAGMA busy_timeout")[0] >= 1000
    store.close()
