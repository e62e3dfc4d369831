"""The profile's own files (reference photos, thumbnails): stored relative, deleted only after commit.

Rows keep a file inside the profile as a path relative to its folder ("concept-3-ab12.jpg",
"ab/ab12....jpg"), so a copied, restored or moved profile points at its own files: with
absolute paths, ``concepts forget`` in a copy deleted the *original* profile's photo.
Files outside the profile (photos in watched folders) keep their absolute paths, and are
never deleted by the store.

A file is deleted in two steps, so a crash cannot orphan it: the row that will delete it
(``pending_deletions``) is written in the same transaction that drops its last reference,
and :meth:`ProfileFiles.sweep` unlinks the files after the commit, and again on every open
(a crash between the two leaves the row, not the file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from companion.core.store.db import Connection, Database

ROOTS = ("concept_images", "thumbnails")


@dataclass(frozen=True)
class ProfileFiles:
    """Where a profile keeps its own files; None where the store was opened without one."""

    concept_images: Path | None = None
    thumbnails: Path | None = None

    @classmethod
    def beside(cls, db_path: Path) -> "ProfileFiles":
        """The layout of ``paths.Paths`` for a database opened by path alone: ``concept_images/`` next to it."""
        if str(db_path) == ":memory:":
            return cls()
        return cls(concept_images=Path(db_path).parent / "concept_images")

    def root(self, kind: str) -> Path | None:
        if kind not in ROOTS:
            raise ValueError(f"unknown profile folder {kind!r}")
        folder: Path | None = getattr(self, kind)
        return folder

    def to_row(self, kind: str, path: str | None) -> str | None:
        """What a row stores for ``path``: relative (POSIX separators) when inside the ``kind`` folder."""
        if not path:
            return path
        folder = self.root(kind)
        if folder is None or not Path(path).is_absolute():
            return path
        try:
            relative = Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
        except ValueError:
            return path                       # outside the profile: the user's file, kept absolute
        return relative.as_posix()

    def from_row(self, kind: str, stored: str | None) -> str | None:
        """The path a caller can open for what a row stores."""
        if not stored or Path(stored).is_absolute():
            return stored
        folder = self.root(kind)
        return str(folder / PurePosixPath(stored)) if folder is not None else stored

    def owned(self, kind: str, stored: str) -> Path | None:
        """The file a row's relative path names, if it lies inside this profile's folder (else None)."""
        folder = self.root(kind)
        if folder is None or not stored or Path(stored).is_absolute():
            return None
        target = Path(os.path.abspath(folder / PurePosixPath(stored)))
        try:
            target.relative_to(os.path.abspath(folder))
        except ValueError:
            return None                       # "../" in a row: never outside the folder
        return target

    # ---- deleting after commit ------------------------------------------------------------

    @staticmethod
    def schedule(conn: Connection, kind: str, stored: str | None) -> None:
        """Inside the caller's transaction: delete this file once the transaction has committed."""
        if stored and not Path(stored).is_absolute():
            conn.execute("INSERT INTO pending_deletions (root, path) VALUES (?, ?)", (kind, stored))

    def sweep(self, db: Database) -> int:
        """Delete every file a committed transaction scheduled; returns how many rows were done.

        A row whose folder this store does not know stays for a store that does (the app's).
        """
        done = 0
        for row in db.query("SELECT id, root, path FROM pending_deletions ORDER BY id"):
            if self.root(row["root"]) is None:
                continue
            target = self.owned(row["root"], row["path"])
            if target is not None:
                target.unlink(missing_ok=True)
            db.execute("DELETE FROM pending_deletions WHERE id = ?", (row["id"],))
            done += 1
        return done
