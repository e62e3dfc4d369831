"""scripts/build_llama.py: portable flags, and a wheel folder keyed by everything that shapes the binary."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def build_llama():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_llama", REPO / "scripts" / "build_llama.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_every_backend_builds_without_native_cpu_flags(build_llama, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("COMPANION_LLAMA_CMAKE_ARGS", raising=False)
    for backend in build_llama.BACKENDS:
        args = build_llama.cmake_args(backend)
        assert "-DGGML_NATIVE=OFF" in args and "-DGGML_BACKEND_DL=ON" in args
        assert "-DGGML_CPU_ALL_VARIANTS=ON" in args
    cuda = build_llama.cmake_args("cuda")
    assert "-DGGML_CUDA=ON" in cuda
    assert any(a.startswith("-DCMAKE_CUDA_ARCHITECTURES=75;") for a in cuda)


def test_other_flags_get_another_wheel_folder(build_llama, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COMPANION_WHEEL_CACHE", "/tmp/wheels")
    monkeypatch.delenv("COMPANION_LLAMA_CMAKE_ARGS", raising=False)
    portable = build_llama.wheel_folder("cpu", build_llama.cmake_args("cpu"))
    assert portable == build_llama.wheel_folder("cpu", build_llama.cmake_args("cpu"))  # same flags: reused
    monkeypatch.setenv("COMPANION_LLAMA_CMAKE_ARGS", "-DGGML_NATIVE=ON")
    assert build_llama.wheel_folder("cpu", build_llama.cmake_args("cpu")) != portable
    assert build_llama.wheel_folder("cuda", build_llama.cmake_args("cuda")) != portable
    assert portable.parent == Path("/tmp/wheels")


def test_the_script_builds_the_version_pyproject_pins(build_llama) -> None:  # type: ignore[no-untyped-def]
    pin = re.search(r'"llama-cpp-python==([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert pin is not None and pin.group(1) == build_llama.VERSION
