"""L2 normalisation, the one place embeddings become unit vectors.

Every model's output and every stored key is compared by cosine distance, which
for unit vectors is ``1 - dot``; normalising in one place keeps the backends and
the store's in-memory index agreeing on what "unit" means (a zero vector stays zero).
"""

from __future__ import annotations

import numpy as np


def unit_rows(array: np.ndarray) -> np.ndarray:
    """``array`` (one vector, or one per row) scaled to length 1 along its last axis, as float32."""
    array = np.asarray(array, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.where(norms > 0, norms, 1.0).astype(np.float32)
