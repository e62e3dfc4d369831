"""Hardware detection and the automatic choice of GPU layers."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from companion.backends import hardware as hw
from companion.config import Settings

CPU_BUILD = hw.LlamaBuild(available=True, gpu_offload=False, backends=("CPU",))
CUDA_BUILD = hw.LlamaBuild(available=True, gpu_offload=True, backends=("CUDA", "CPU"))
NVIDIA = hw.MachineGpus(nvidia=("NVIDIA RTX 4090, 24564 MiB",))


@pytest.mark.parametrize("override, build, gpus, expected", [
    (None, CPU_BUILD, hw.MachineGpus(), 0),
    (None, CPU_BUILD, NVIDIA, 0),                    # a GPU the build cannot use
    (None, CUDA_BUILD, NVIDIA, -1),
    (None, CUDA_BUILD, hw.MachineGpus(apple_metal=True), -1),
    (None, hw.LlamaBuild(available=True, gpu_offload=True, backends=("CPU",)), hw.MachineGpus(), 0),
    (None, hw.LlamaBuild(available=True, gpu_offload=True, backends=("Vulkan", "CPU")), hw.MachineGpus(), -1),
    (12, CPU_BUILD, hw.MachineGpus(), 12),           # the user's setting wins
    (0, CUDA_BUILD, NVIDIA, 0),
])
def test_choose_n_gpu_layers(override: int | None, build: hw.LlamaBuild, gpus: hw.MachineGpus,
                             expected: int) -> None:
    layers, reason = hw.choose_n_gpu_layers(override, build, gpus)
    assert layers == expected and reason


def test_installed_llama_cpp_is_inspected() -> None:
    build = hw.llama_build()
    assert build.available and build.version
    assert "CPU" in build.backends
    assert "CPU" in build.system_info


def test_apple_silicon_means_metal() -> None:
    assert hw.detect_gpus("Darwin", "arm64").apple_metal
    assert not hw.detect_gpus("Darwin", "x86_64").apple_metal
    assert not hw.detect_gpus("Linux", "aarch64").apple_metal


def test_nvidia_smi_output_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559 MiB'\necho 'NVIDIA L4, 23034 MiB'\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    gpus = hw.detect_gpus("Linux", "x86_64")
    assert gpus.nvidia == ("NVIDIA H100 80GB HBM3, 81559 MiB", "NVIDIA L4, 23034 MiB") and gpus.any


def test_failing_nvidia_smi_means_no_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert hw.detect_gpus("Linux", "x86_64").nvidia == ()


def test_doctor_report_is_json_and_honours_settings() -> None:
    report = hw.doctor_report(Settings())
    json.dumps(report)
    assert {"build", "gpus", "n_gpu_layers", "reason", "onnxruntime_providers", "platform"} <= set(report)
    assert "CPUExecutionProvider" in report["onnxruntime_providers"]
    assert hw.report(Settings(n_gpu_layers=7))["n_gpu_layers"] == 7
    forced = hw.doctor_report(Settings(device="cpu", n_gpu_layers=7))
    assert forced["n_gpu_layers"] == 0
    assert hw.gpu_layers_for(Settings(device="cpu", n_gpu_layers=5)) == 0
