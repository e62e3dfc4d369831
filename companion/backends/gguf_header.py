"""GGUF headers: a model file's metadata and tensor shapes, and whether a vision projector fits a model.

gguf.GGUFReader parses every array eagerly (about 16 s for the 262k-token vocabulary of
Gemma 3 on this machine), so the header is read here with struct and mmap instead.

The whole tensor index is read and checked against the file: every tensor's data must lie
inside it, so a download or copy cut short is refused when it is added (``models add``),
not found by llama.cpp half-way through loading. The sizes of ggml's tensor types are
ggml's constants (tests/unit/test_gguf_header.py checks them against the ``gguf`` package,
which is not shipped); a type this table does not know is only checked for its offset.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from companion.core.errors import BadModelFileError, ModelError

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
# ggml type id -> (elements per block, bytes per block), as ggml.c's type_traits.
GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}
MAX_DIMS = 4            # GGML_MAX_DIMS
DEFAULT_ALIGNMENT = 32  # GGUF_DEFAULT_ALIGNMENT, unless general.alignment says otherwise


@dataclass(frozen=True)
class GgufInfo:
    metadata: dict[str, Any]                 # large arrays are kept as their length only
    tensors: dict[str, tuple[int, ...]]      # name -> ggml ne (innermost dimension first)


def read_gguf(path: Path) -> GgufInfo:
    """Metadata and tensor shapes of a GGUF file; ``ModelError`` when it is not one."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _parse_gguf(buf)
    except Truncated as exc:
        raise BadModelFileError(f"{Path(path).name} is incomplete: {exc}; the download or copy was cut short: "
                         "get the file again") from exc
    except (OSError, ValueError, OverflowError, struct.error, UnicodeDecodeError) as exc:
        # OverflowError: a damaged length field larger than any file
        raise BadModelFileError(f"{path} is not a readable GGUF model file ({exc})") from exc


class Truncated(ValueError):
    """The header is whole but the tensor data it describes runs past the end of the file."""


_U64 = struct.Struct("<Q")


def _parse_gguf(buf: mmap.mmap) -> GgufInfo:
    if buf[:4] != b"GGUF":
        raise ValueError("bad magic")
    (version,) = struct.unpack_from("<I", buf, 4)
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old")
    n_tensors, n_kv = struct.unpack_from("<QQ", buf, 8)
    pos = 24

    def string(at: int) -> tuple[str, int]:
        (length,) = struct.unpack_from("<Q", buf, at)
        return buf[at + 8:at + 8 + length].decode("utf-8", errors="replace"), at + 8 + length

    def value(kind: int, at: int) -> tuple[Any, int]:
        if kind in _SCALARS:
            fmt = "<" + _SCALARS[kind]
            return struct.unpack_from(fmt, buf, at)[0], at + struct.calcsize(fmt)
        if kind == 8:
            return string(at)
        if kind == 9:
            sub, count = struct.unpack_from("<IQ", buf, at)
            at += 12
            if sub in _SCALARS:
                size = struct.calcsize("<" + _SCALARS[sub])
                if count <= 64:
                    scalars = list(struct.unpack_from(f"<{count}{_SCALARS[sub]}", buf, at))
                    return scalars, at + size * count
                return count, at + size * count
            if sub == 8 and count > 64:
                # A vocabulary (hundreds of thousands of strings): step over it without
                # decoding, since this runs in GUI workers where long GIL holds stall the window.
                unpack = _U64.unpack_from
                for _ in range(count):
                    at += 8 + unpack(buf, at)[0]
                return count, at
            items: list[Any] = []
            for _ in range(count):
                item, at = value(sub, at)
                if count <= 64:
                    items.append(item)
            return (items if count <= 64 else count), at
        raise ValueError(f"unknown GGUF value type {kind}")

    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key, pos = string(pos)
        (kind,) = struct.unpack_from("<I", buf, pos)
        metadata[key], pos = value(kind, pos + 4)
    tensors: dict[str, tuple[int, ...]] = {}
    placed: list[tuple[str, int, int, int]] = []     # name, ggml type, offset, element count
    for _ in range(n_tensors):
        name, pos = string(pos)
        (n_dims,) = struct.unpack_from("<I", buf, pos)
        if not 1 <= n_dims <= MAX_DIMS:
            raise ValueError(f"tensor {name!r} has {n_dims} dimensions")
        dims = struct.unpack_from(f"<{n_dims}Q", buf, pos + 4)
        kind, offset = struct.unpack_from("<IQ", buf, pos + 4 + 8 * n_dims)
        tensors[name] = tuple(int(d) for d in dims)
        placed.append((name, kind, offset, math.prod(dims)))
        pos += 4 + 8 * n_dims + 4 + 8  # dims, type, offset
    _check_data(buf, metadata, pos, placed)
    return GgufInfo(metadata, tensors)


def _check_data(buf: mmap.mmap, metadata: dict[str, Any], index_end: int,
                placed: list[tuple[str, int, int, int]]) -> None:
    """Every tensor's bytes lie inside the file, after the index, aligned (as llama.cpp's gguf reader demands)."""
    alignment = int(metadata.get("general.alignment") or DEFAULT_ALIGNMENT)
    if alignment <= 0 or alignment & (alignment - 1):
        raise ValueError(f"alignment {alignment} is not a power of two")
    data = -(-index_end // alignment) * alignment
    size = len(buf)
    for name, kind, offset, elements in placed:
        if offset % alignment:
            raise ValueError(f"tensor {name!r} is not aligned")
        end = data + offset
        if kind in GGML_BLOCKS:
            block, block_bytes = GGML_BLOCKS[kind]
            if elements % block:
                raise ValueError(f"tensor {name!r} does not fill whole blocks of its type")
            end += elements // block * block_bytes
        if end > size:
            raise Truncated(f"tensor {name!r} ends at byte {end:,} but the file has {size:,} bytes")


def text_embedding_length(info: GgufInfo) -> int | None:
    arch = info.metadata.get("general.architecture", "")
    value = info.metadata.get(f"{arch}.embedding_length")
    return int(value) if value is not None else None


def mmproj_output_dim(info: GgufInfo) -> int | None:
    """Width of the embeddings the projector feeds the text model (clip_n_mmproj_embd)."""
    t = info.tensors
    proj = info.metadata.get("clip.projector_type") or info.metadata.get("clip.vision.projector_type", "")
    # Per projector type, the tensor llama.cpp's clip_n_mmproj_embd() reads.
    by_type: dict[str, tuple[str, int]] = {
        "gemma3": ("mm.input_projection.weight", 0),
        "idefics3": ("mm.model.fc.weight", 1),
        "qwen2vl_merger": ("mm.2.bias", 0),
        "qwen25vl": ("mm.2.bias", 0),
        "mlp": ("mm.2.weight", 1),
        "pixtral": ("mm.2.weight", 1),
    }
    if proj in by_type and by_type[proj][0] in t:
        name, axis = by_type[proj]
        return t[name][axis]
    value = info.metadata.get("clip.vision.projection_dim")
    return int(value) if value else None


def check_mmproj_compatible(model_path: Path, mmproj_path: Path) -> None:
    """Raise ``ModelError`` when the projector cannot feed this text model (before llama.cpp aborts)."""
    model_info, proj_info = read_gguf(model_path), read_gguf(mmproj_path)
    if "clip.has_vision_encoder" not in proj_info.metadata and not any(
            k.startswith("clip.") for k in proj_info.metadata):
        raise ModelError(f"{mmproj_path.name} is not a vision projector (mmproj) file")
    if any(k.startswith("clip.") for k in model_info.metadata):
        raise ModelError(f"{model_path.name} is a vision projector, not a language model; "
                         "pass it as the mmproj file")
    n_embd, out_dim = text_embedding_length(model_info), mmproj_output_dim(proj_info)
    if n_embd and out_dim and n_embd != out_dim:
        raise ModelError(
            f"the projector {mmproj_path.name} does not belong to the model {model_path.name}: it "
            f"outputs {out_dim}-wide embeddings but the model expects {n_embd}; use the mmproj file "
            "published with this model")
