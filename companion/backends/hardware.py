"""What llama.cpp was built with, what the machine has, and how many layers to offload.

A llama.cpp build only uses a GPU when it was compiled for one (CUDA, Metal,
Vulkan, ...). Offloading (``n_gpu_layers=-1``) is chosen only when the build can
offload *and* a GPU is present; the user's ``Settings.n_gpu_layers`` always wins.
Everything here is cheap and never raises: ``companion doctor`` prints it.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Any

from companion.backends.onnx import onnxruntime
from companion.config import Settings


@dataclass(frozen=True)
class LlamaBuild:
    """The llama.cpp library inside llama-cpp-python."""

    available: bool
    version: str = ""
    gpu_offload: bool = False
    backends: tuple[str, ...] = ()      # ggml backend registry names, e.g. ("CUDA", "CPU")
    system_info: str = ""               # llama.cpp's own line: the CPU features the loaded backend uses
    portable: bool = False              # CPU variants chosen at run time (False: one CPU target, maybe native)
    cpu_variant: str = ""               # e.g. "haswell", "zen4"
    summary: str = ""                   # one sentence on the build, for people
    error: str = ""


@dataclass(frozen=True)
class MachineGpus:
    """GPUs the machine has, independent of what llama.cpp can use."""

    nvidia: tuple[str, ...] = ()        # "NVIDIA H100 80GB HBM3, 81559 MiB"
    apple_metal: bool = False

    @property
    def any(self) -> bool:
        return bool(self.nvidia) or self.apple_metal

    def names(self) -> list[str]:
        return list(self.nvidia) + (["Apple Silicon GPU (Metal)"] if self.apple_metal else [])


@dataclass(frozen=True)
class HardwareReport:
    build: LlamaBuild
    gpus: MachineGpus
    n_gpu_layers: int
    reason: str
    onnxruntime_providers: list[str] = field(default_factory=list)


def llama_build(allow_amx: bool = False) -> LlamaBuild:
    """Inspect the installed llama-cpp-python; ``available=False`` when it cannot be imported.

    Loads llama.cpp's backends first (``llama_backends.ensure_loaded``): a portable build
    has none until then, and its system info names the CPU variant chosen for this machine.
    """
    try:
        import llama_cpp  # lazy: importing companion.backends must stay cheap

        from .llama import quiet_native_logs
        from .llama_backends import ensure_loaded, registered

        quiet_native_logs()
        loaded = ensure_loaded(allow_amx)
        backends = registered()
    except Exception as exc:  # noqa: BLE001 - ImportError, a broken shared library (OSError), ...: doctor never fails
        return LlamaBuild(available=False, error=f"{type(exc).__name__}: {exc}")
    return LlamaBuild(
        available=True,
        version=getattr(llama_cpp, "__version__", ""),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        backends=backends,
        system_info=llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        portable=loaded.portable,
        cpu_variant=loaded.cpu_variant,
        summary=loaded.describe(),
        error=loaded.error,
    )


def detect_gpus(system: str | None = None, machine: str | None = None) -> MachineGpus:
    """NVIDIA GPUs through ``nvidia-smi``; Apple Silicon means Metal."""
    system = system or platform.system()
    machine = machine or platform.machine()
    nvidia: tuple[str, ...] = ()
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10, check=False)
            if out.returncode == 0:
                nvidia = tuple(line.strip() for line in out.stdout.splitlines() if line.strip())
        except (OSError, subprocess.TimeoutExpired):
            nvidia = ()
    apple = system == "Darwin" and machine in ("arm64", "aarch64")
    return MachineGpus(nvidia=nvidia, apple_metal=apple)


def choose_n_gpu_layers(override: int | None, build: LlamaBuild, gpus: MachineGpus) -> tuple[int, str]:
    """``(n_gpu_layers, reason)``: -1 = all layers on the GPU, 0 = CPU only."""
    if override is not None:
        return int(override), "set in settings (n_gpu_layers)"
    if not build.gpu_offload:
        return 0, "llama.cpp was built without GPU support"
    if not gpus.any:
        # A Vulkan/ROCm build may see GPUs nvidia-smi cannot; trust a GPU backend in the registry.
        gpu_backends = [b for b in build.backends if b.upper() not in ("CPU", "BLAS", "RPC")]
        if gpu_backends:
            return -1, f"GPU build ({', '.join(gpu_backends)})"
        return 0, "no GPU found"
    return -1, "GPU build and a GPU present: all layers offloaded"


def gpu_layers_for(settings: Settings) -> int:
    """What the model loader passes as ``n_gpu_layers`` for these settings."""
    if settings.device == "cpu":
        return 0
    return choose_n_gpu_layers(settings.n_gpu_layers, llama_build(settings.llm_allow_amx), detect_gpus())[0]


def total_ram_mb() -> int:
    """The machine's memory in MB (0 when it cannot be told): which chat models suit this computer."""
    try:
        if platform.system() == "Windows":
            import ctypes

            class _Status(ctypes.Structure):
                _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong),
                            ("available", ctypes.c_ulonglong), ("page_total", ctypes.c_ulonglong),
                            ("page_available", ctypes.c_ulonglong), ("virtual_total", ctypes.c_ulonglong),
                            ("virtual_available", ctypes.c_ulonglong), ("extended", ctypes.c_ulonglong)]

            status = _Status()
            status.length = ctypes.sizeof(_Status)
            if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
                return int(status.total >> 20)
            return 0
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20)
    except (OSError, ValueError, AttributeError):
        return 0


def onnxruntime_providers() -> list[str]:
    try:
        ort = onnxruntime()  # lazy
    except Exception:  # noqa: BLE001 - a broken install means no providers, and doctor still reports the rest
        return []
    return list(ort.get_available_providers())


def doctor_report(settings: Settings | None = None) -> dict[str, Any]:
    """Everything ``companion doctor`` shows about compute, as plain JSON-able data."""
    settings = settings or Settings()
    build = llama_build(settings.llm_allow_amx)
    gpus = detect_gpus()
    if settings.device == "cpu":
        layers, reason = 0, "device = cpu in settings"
    else:
        layers, reason = choose_n_gpu_layers(settings.n_gpu_layers, build, gpus)
    report = HardwareReport(build=build, gpus=gpus, n_gpu_layers=layers, reason=reason,
                            onnxruntime_providers=onnxruntime_providers())
    data = asdict(report)
    data["gpus"] = {"detected": gpus.names(), "nvidia": list(gpus.nvidia), "apple_metal": gpus.apple_metal}
    data["build"]["backends"] = list(build.backends)
    data["platform"] = f"{platform.system()} {platform.machine()}"
    return data


def report(settings: Settings | None = None) -> dict[str, Any]:
    """Alias of :func:`doctor_report` (the name ``app.diagnostics.doctor`` calls)."""
    return doctor_report(settings)
