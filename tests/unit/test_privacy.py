"""Privacy switches that must be on before any third-party code can phone home.

onnxruntime's telemetry lives in native code, so the proof that nothing is sent is the
system-call test (``tests/integration/test_no_network.py``); these fast checks keep the
switch where that test needs it: set by ``import companion`` and applied by the one
module allowed to import onnxruntime.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "companion"
GATEWAY = PACKAGE / "backends" / "onnx.py"


def test_importing_companion_turns_onnxruntime_telemetry_off_for_it_and_its_children() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORT_")}
    env["ORT_DISABLE_TELEMETRY"] = "0"      # even a user's own setting cannot turn it back on
    script = ("import os, subprocess, sys, companion; print(os.environ['ORT_DISABLE_TELEMETRY']); "
              "sys.stdout.flush(); subprocess.run([sys.executable, '-c', "
              "'import os; print(os.environ[\"ORT_DISABLE_TELEMETRY\"])'])")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]


def test_only_the_gateway_imports_onnxruntime() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path == GATEWAY:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name == "onnxruntime" or name.startswith("onnxruntime.") for name in names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert offenders == [], "import onnxruntime through companion.backends.onnx.onnxruntime(): " + ", ".join(offenders)


def test_the_gateway_hands_out_onnxruntime_with_telemetry_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.backends import onnx

    monkeypatch.setenv("ORT_DISABLE_TELEMETRY", "0")
    ort = onnx.onnxruntime()
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1"
    assert hasattr(ort, "InferenceSession")
