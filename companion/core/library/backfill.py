"""Image vectors for the photos indexed before the image model was installed.

A new user's first index often runs without CLIP (it is a download); the photos are then
in the library without an image vector, so a pet or thing could never be found in them.
When the model is there, the next indexing run first embeds those photos (a batch at a
time, one transaction per photo, resumable) and matches them against the pet, object and
place keys, as indexing does for a new photo.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from companion.config import Settings
from companion.core.errors import CompanionError
from companion.core.library import recognition
from companion.core.protocols import ImageEmbedder, PhotoReader
from companion.core.store import Store
from companion.core.types import Progress

BATCH = 8


def embed_missing(store: Store, settings: Settings, reader: PhotoReader, embedder: ImageEmbedder,
                  cancel: threading.Event | None = None) -> Iterator[Progress]:
    """Embed every indexed photo that has no image vector; yields Progress ("embed", done, total)."""
    todo = store.photos.without_embedding(limit=1 << 30)
    if not todo:
        return
    total, done = len(todo), 0
    for start in range(0, total, BATCH):
        if cancel is not None and cancel.is_set():
            return
        batch: list[tuple[int, np.ndarray]] = []
        for photo_id, path in todo[start:start + BATCH]:
            try:
                batch.append((photo_id, reader.read(Path(path)).pixels))
            except (CompanionError, OSError, ValueError):
                continue        # gone or unreadable since: the next index run records it
        vectors = embedder.embed_images([pixels for _, pixels in batch]) if batch else np.zeros((0, 1), np.float32)
        for (photo_id, _), vector in zip(batch, vectors, strict=True):
            _commit(store, settings, photo_id, np.asarray(vector, dtype=np.float32))
        done += len(todo[start:start + BATCH])
        yield Progress("embed", done, total, f"reading {done} of {total} photos with the image model")


def _commit(store: Store, settings: Settings, photo_id: int, vector: np.ndarray) -> None:
    with store.db.transaction():
        store.photos.set_embedding(photo_id, vector)
        recognition.match_photo(store, settings, photo_id, [], vector)   # its faces were matched when indexed
