"""CLIP image/text embeddings from an open_clip model exported to ONNX.

Two folder layouts are read (``find_layout``):

- **the download** (``companion models download clip-vit-b-32``): Immich's export of OpenAI's
  ViT-B/32 (MIT), ``config.json`` + ``visual/model.onnx`` + ``visual/preprocess_cfg.json`` +
  ``textual/model.onnx`` + ``textual/tokenizer.json``. Its encoders take a batch of one and
  int32 tokens; both are read from the model's inputs, not assumed.
- **an export** by ``scripts/export_clip.py`` (``image.onnx``, ``text.onnx``, ``preprocess.json``,
  ``tokenizer.json``, optionally ``image.int8.onnx``): the tests' random-weight model, or a
  developer's export of trained weights. A random export is refused by ``open_embedder`` unless test
  models are allowed (``clip_check``: the app must not name pets in photos by noise).

Run time needs onnxruntime, tokenizers, numpy and Pillow only (no torch):
preprocessing follows open_clip's saved config (resize the shortest side with
bicubic, center crop, mean/std) and text goes through open_clip's BPE rules,
saved by the exporter as a ``tokenizers`` file.

Providers: CUDA, then CoreML, then CPU, by what this onnxruntime build has. On
CPU alone one model run is spread over the cores (inter-op = 1, as Immich does),
except one for the image encoder: the indexer runs face detection (one core:
dlib holds the GIL) at the same time. On 2 cores an image encoder thread that
competed with it cost 8-15 % more CPU per image (75-82 against 69-70 ms int8).
Thread spinning is off, so an idle onnxruntime thread does not take a core
from the face search (or from the rest of the desktop).

On CPU alone the image encoder is ``image.int8.onnx`` when the export has it
(dynamic int8 quantisation, ``scripts/export_clip.py``): ~25-35 % less CPU per
image, embeddings at cosine >= 0.999 to the fp32 file's, so vectors from either
can share one index (the embedder ``name`` stays the same). GPUs run fp32.

Tokens equal open_clip's for ordinary text (tested), with one deliberate
difference: the literal strings "<start_of_text>"/"<end_of_text>" typed by a
user are plain text here, not control tokens.
"""

from __future__ import annotations

import html
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from companion.backends.onnx import onnxruntime
from companion.core.errors import ModelError, ModelMissingError
from companion.core.vectors import unit_rows

MODEL_FILES = ("image.onnx", "text.onnx", "preprocess.json", "tokenizer.json")
IMAGE_INT8 = "image.int8.onnx"           # optional: written by scripts/export_clip.py
DOWNLOAD_FILES = ("config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx",
                  "textual/tokenizer.json")
DEFAULT_DIRNAME = "clip-vit-b-32"       # under Paths.models_dir
GET_IT = "download the image model: `companion models download clip-vit-b-32`, or Settings > Models"
PROVIDER_PREFERENCE = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")


def find_layout(model_dir: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """The folder's files (image, text, tokenizer) and its preprocessing config in one shape; ModelMissingError
    when neither layout is complete, ModelError when its config cannot be read."""
    model_dir = Path(model_dir)
    if all((model_dir / name).is_file() for name in MODEL_FILES):
        files = {"image": model_dir / "image.onnx", "text": model_dir / "text.onnx",
                 "tokenizer": model_dir / "tokenizer.json"}
        configs: tuple[str, ...] = ("preprocess.json",)
    elif all((model_dir / name).is_file() for name in DOWNLOAD_FILES):
        files = {"image": model_dir / "visual/model.onnx", "text": model_dir / "textual/model.onnx",
                 "tokenizer": model_dir / "textual/tokenizer.json"}
        configs = ("config.json", "visual/preprocess_cfg.json")
    else:
        raise ModelMissingError(f"CLIP image model not installed in {model_dir}: {GET_IT}",
                                brief="Photo search, pets and things need the image model.", action="get_photo_model")
    try:
        if len(configs) == 1:
            return files, dict(json.loads((model_dir / configs[0]).read_text()))
        return files, _download_config(model_dir)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        raise ModelError(f"bad CLIP configuration ({' or '.join(configs)}) in {model_dir}: {error}") from error


def _download_config(model_dir: Path) -> dict[str, Any]:
    """Immich's config.json (open_clip's model config) and preprocess_cfg.json, in preprocess.json's keys."""
    model = json.loads((model_dir / "config.json").read_text())
    pre = json.loads((model_dir / "visual/preprocess_cfg.json").read_text())
    size = pre["size"][0] if isinstance(pre["size"], list) else pre["size"]
    return {"model": model_dir.name, "pretrained": "downloaded", "dim": int(model["embed_dim"]),
            "context_length": int(model.get("text_cfg", {}).get("context_length", 77)), "size": int(size),
            "mean": pre["mean"], "std": pre["std"], "interpolation": pre.get("interpolation", "bicubic"),
            "resize_mode": pre.get("resize_mode", "shortest")}


def choose_providers(providers: Sequence[str] | None = None) -> list[str]:
    """The preferred providers this onnxruntime build has, best first (CPU when none)."""
    ort = onnxruntime()

    available = set(ort.get_available_providers())
    return [p for p in (providers or PROVIDER_PREFERENCE) if p in available] or ["CPUExecutionProvider"]


def make_session(path: Path, threads: int | None = None, providers: Sequence[str] | None = None,
                 spin: bool = False) -> Any:
    """An onnxruntime session on the best available provider; ModelError when the file is not a model."""
    ort = onnxruntime()

    chosen = choose_providers(providers)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if chosen == ["CPUExecutionProvider"]:
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if not spin:   # idle pool threads sleep instead of busy-waiting for the next op
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load model {Path(path).name}: {str(error).splitlines()[0][:200]}") from error


class OnnxClipEmbedder:
    """``ImageEmbedder`` over an exported open_clip folder (see ``MODEL_FILES``).

    batch_size: images per encoder run; threads: CPU intra-op threads (default: all cores for text,
    all but one for images, see the module docstring).
    quantized: use ``image.int8.onnx`` (True), never (False), or when present and on CPU only (None).
    Sessions load on first use, image and text separately (search only needs text).
    """

    def __init__(self, model_dir: Path | str, batch_size: int = 8, threads: int | None = None,
                 providers: Sequence[str] | None = None, quantized: bool | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.files, self.config = find_layout(self.model_dir)
        self.dim = int(self.config["dim"])
        self.name = f"clip-onnx:{self.config['model']}:{self.config.get('pretrained') or 'random'}"
        self.size = int(self.config["size"])
        self.context_length = int(self.config.get("context_length", 77))
        self.batch_size = max(1, int(batch_size))
        self.threads = threads
        self.providers = providers
        self.quantized = quantized
        if quantized and not (self.model_dir / IMAGE_INT8).is_file():
            raise ModelMissingError(f"{IMAGE_INT8} missing in {self.model_dir} (scripts/export_clip.py writes it)",
                                    brief="The image model is incomplete.", action="get_photo_model")
        self._fixed_batch: dict[str, bool] = {}
        self._mean = np.asarray(self.config["mean"], dtype=np.float32).reshape(3, 1, 1)
        self._std = np.asarray(self.config["std"], dtype=np.float32).reshape(3, 1, 1)
        self._lock = threading.Lock()
        self._image: Any = None
        self._text: Any = None
        self._tokenizer: Any = None

    # ---- images ---------------------------------------------------------------------

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 unit vectors for RGB uint8 H x W x 3 arrays."""
        if len(images) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._session("image")
        step = 1 if self._fixed_batch["image"] else self.batch_size
        out = []
        for start in range(0, len(images), step):
            batch = np.stack([self.preprocess(image) for image in images[start:start + step]])
            out.append(session.run(None, {session.get_inputs()[0].name: batch})[0])
        return unit_rows(np.concatenate(out))

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """open_clip's eval transform in Pillow/numpy: (3, size, size) float32."""
        from PIL import Image

        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected RGB uint8 H x W x 3 pixels, got {array.dtype} {array.shape}")
        picture = Image.fromarray(np.ascontiguousarray(array), "RGB")
        resample = _resample(self.config.get("interpolation", "bicubic"))
        picture = _resize(picture, self.size, self.config.get("resize_mode", "shortest"), resample)
        chw = np.asarray(picture, dtype=np.float32).transpose(2, 0, 1) / 255.0
        return (chw - self._mean) / self._std

    # ---- texts ----------------------------------------------------------------------

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._session("text")
        step = 1 if self._fixed_batch["text"] else 64
        dtype = np.int32 if "int32" in session.get_inputs()[0].type else np.int64
        out = []
        for start in range(0, len(texts), step):
            tokens = self.tokenize(texts[start:start + step]).astype(dtype)
            out.append(session.run(None, {session.get_inputs()[0].name: tokens})[0])
        return unit_rows(np.concatenate(out))

    def tokenize(self, texts: Sequence[str]) -> np.ndarray:
        """open_clip token ids, (n, context_length) int64: sot, BPE, eot, zero padding; truncated like open_clip."""
        tokenizer = self._get_tokenizer()
        sot, eot = int(self.config.get("sot_token_id", 49406)), int(self.config.get("eot_token_id", 49407))
        result = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, encoding in enumerate(tokenizer.encode_batch([_clean(t) for t in texts], add_special_tokens=False)):
            ids = [sot, *encoding.ids, eot][: self.context_length]
            ids[-1] = eot
            result[row, : len(ids)] = ids
        return result

    # ---- loading --------------------------------------------------------------------

    def _session(self, which: str) -> Any:
        with self._lock:
            attr = f"_{which}"
            if getattr(self, attr) is None:
                threads = self.threads or (max(1, (os.cpu_count() or 1) - 1) if which == "image" else None)
                session = make_session(self._file(which), threads, self.providers)
                batch = session.get_inputs()[0].shape[0]
                self._fixed_batch[which] = isinstance(batch, int) and batch == 1   # Immich's exports: one at a time
                setattr(self, attr, session)
            return getattr(self, attr)

    def _file(self, which: str) -> Path:
        if which == "image" and self.quantized is not False and (self.model_dir / IMAGE_INT8).is_file():
            if self.quantized or choose_providers(self.providers) == ["CPUExecutionProvider"]:
                return self.model_dir / IMAGE_INT8
        return self.files[which]

    @property
    def image_file(self) -> str:
        """The image encoder file this embedder runs (``image.onnx`` or ``image.int8.onnx``)."""
        return self._file("image").name

    def _get_tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                self._tokenizer = Tokenizer.from_file(str(self.files["tokenizer"]))
            return self._tokenizer

    @property
    def providers_in_use(self) -> list[str]:
        return list(self._session("image").get_providers())


def open_embedder(model_dir: Path, cache_dir: Path | None, batch_size: int = 8) -> OnnxClipEmbedder:
    """The app's CLIP (``factory.py``): the export in ``model_dir``, checked for trained weights
    (the verdict is cached in ``cache_dir``).

    A model with random weights is refused (``ModelMissingError``: the app then works as without
    one, and says how to get the real one) unless ``COMPANION_ALLOW_TEST_MODELS=1`` (the test suite).
    """
    from companion.backends import clip_check

    embedder = OnnxClipEmbedder(model_dir, batch_size=batch_size)
    verdict = clip_check.check(embedder, cache_dir)
    if not verdict.trained and not clip_check.test_models_allowed():
        raise ModelMissingError(f"CLIP: {clip_check.RANDOM} in {model_dir} ({verdict.detail}); {GET_IT}")
    return embedder


def _resize(picture: Any, size: int, mode: str, resample: Any) -> Any:
    from PIL import Image

    width, height = picture.size
    if mode == "squash":
        return picture.resize((size, size), resample)
    if mode == "longest":   # fit inside, pad with black (open_clip's ResizeKeepRatio + CenterCrop fill 0)
        factor = size / max(width, height)
        inner = picture.resize((max(1, round(width * factor)), max(1, round(height * factor))), resample)
        canvas = Image.new("RGB", (size, size))
        canvas.paste(inner, ((size - inner.width) // 2, (size - inner.height) // 2))
        return canvas
    # "shortest" (torchvision Resize(int) + CenterCrop), with torchvision's rounding.
    if width <= height:
        new = (size, int(size * height / width))
    else:
        new = (int(size * width / height), size)
    if new != (width, height):
        picture = picture.resize(new, resample)
    left = int(round((new[0] - size) / 2.0))
    top = int(round((new[1] - size) / 2.0))
    return picture.crop((left, top, left + size, top + size))


def _clean(text: str) -> str:
    """open_clip's basic_clean: ftfy (when installed), html unescape twice, strip."""
    try:
        import ftfy
        text = ftfy.fix_text(text)
    except ImportError:
        pass
    return html.unescape(html.unescape(text)).strip()


def _resample(name: str) -> Any:
    from PIL import Image

    return {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST,
            "lanczos": Image.Resampling.LANCZOS}.get(name, Image.Resampling.BICUBIC)
