"""The memory store: one SQLite file (WAL) with sqlite-vec vectors and FTS5 text search."""

from companion.core.store.db import Database
from companion.core.store.store import ForgetReport, Store

__all__ = ["Database", "ForgetReport", "Store"]
