"""Sentence embeddings for memory search: all-MiniLM-L6-v2 exported to ONNX (``scripts/export_text_embedder.py``).

Run time needs onnxruntime and tokenizers only. Mean pooling and L2
normalisation are inside the graph, so ``embed`` returns unit vectors ready for
the store's cosine index (384-d).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from companion.backends.clip_onnx import make_session
from companion.core.errors import ModelError, ModelMissingError
from companion.core.vectors import unit_rows

MODEL_FILES = ("model.onnx", "tokenizer.json", "config.json")
DEFAULT_DIRNAME = "all-minilm-l6-v2"      # under Paths.models_dir


class OnnxTextEmbedder:
    """``TextEmbedder`` over an exported folder; ``batch_size`` texts per run, padded to the longest."""

    def __init__(self, model_dir: Path | str, batch_size: int = 32, threads: int | None = None,
                 providers: Sequence[str] | None = None) -> None:
        self.model_dir = Path(model_dir)
        missing = [name for name in MODEL_FILES if not (self.model_dir / name).is_file()]
        if missing:
            raise ModelMissingError(f"text embedding model files missing in {self.model_dir}: {', '.join(missing)} "
                                    "(create them with scripts/export_text_embedder.py)")
        try:
            self.config: dict[str, Any] = json.loads((self.model_dir / "config.json").read_text())
        except (OSError, ValueError) as error:
            raise ModelError(f"bad config.json in {self.model_dir}: {error}") from error
        self.dim = int(self.config["dim"])
        self.name = f"onnx:{self.config.get('model', 'text-embedder')}"
        self.max_length = int(self.config.get("max_length", 256))
        self.batch_size = max(1, int(batch_size))
        self.threads = threads
        self.providers = providers
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors; empty strings are embedded too (as [CLS] [SEP])."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self._load()
        out = []
        for start in range(0, len(texts), self.batch_size):
            encodings = tokenizer.encode_batch([str(t) for t in texts[start:start + self.batch_size]])
            ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
            out.append(session.run(None, {"input_ids": ids, "attention_mask": mask})[0])
        return unit_rows(np.concatenate(out))

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                # The shipped file pads to a fixed 128; pad per batch instead and cut at the model's limit.
                tokenizer.enable_truncation(max_length=self.max_length)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                self._tokenizer = tokenizer
            if self._session is None:
                self._session = make_session(self.model_dir / "model.onnx", self.threads, self.providers)
            return self._session, self._tokenizer

