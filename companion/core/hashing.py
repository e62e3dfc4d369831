"""File digests, streamed (photos and model files are too large to read whole)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: str | Path, algorithm: str = "sha256", *, digest_size: int | None = None) -> str:
    """Hex digest of the file's bytes; ``digest_size`` (bytes) only for BLAKE2b, which has one."""
    with open(path, "rb") as handle:
        if digest_size is None:
            return hashlib.file_digest(handle, algorithm).hexdigest()
        if algorithm != "blake2b":
            raise ValueError(f"{algorithm} has a fixed digest size")
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=digest_size)).hexdigest()


def content_hash(path: str | Path) -> str:
    """A photo's identity: BLAKE2b-160 of its bytes (a moved, touched or copied file is the same photo)."""
    return file_digest(path, "blake2b", digest_size=20)
