"""Which ggml compute backends llama.cpp uses: the best safe CPU variant, plus any GPU backend.

Companion builds llama-cpp-python portably (``scripts/build_llama.py``): ggml's
backends are separate libraries loaded at run time (``GGML_BACKEND_DL``), and the
CPU backend comes in one variant per instruction-set level
(``GGML_CPU_ALL_VARIANTS``: x64, sse42, haswell, skylakex, zen4, ...), as in
llama.cpp's own releases. One binary then runs on any x86-64 CPU at its best speed,
instead of baking in the build machine's instruction set (SIGILL on an older
laptop).

llama-cpp-python does not load such backends itself, so :func:`ensure_loaded`
does it before the first model: every accelerator backend that initialises
(CUDA, Metal, Vulkan, ...) and the highest-scoring CPU variant the CPU supports.
The AMX variant (``sapphirerapids``) is skipped unless asked for
(``COMPANION_LLAMA_AMX=1`` or ``Settings.llm_allow_amx``): ggml's AMX path
crashes on virtualised Sapphire Rapids / Xeon 6 hosts (llama.cpp #20824), and the
AVX-512 variant below it runs on the same CPUs.

A build without these libraries (a plain ``pip install``, which compiles with
``-march=native``) registers its one CPU backend statically; it still works, and
:func:`ensure_loaded` reports it as a single-target build.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ENV_ALLOW_AMX = "COMPANION_LLAMA_AMX"
# CPU variants whose code uses AMX tiles (ggml/src/CMakeLists.txt, GGML_CPU_ALL_VARIANTS).
AMX_VARIANTS = frozenset({"sapphirerapids"})
# Libraries in llama_cpp/lib that are not backends: the core, and the CPU backend itself.
_NOT_ACCELERATORS = frozenset({"base", "cpu"})

_PREFIX = "ggml-" if sys.platform == "win32" else "libggml-"
_SUFFIX = ".dll" if sys.platform == "win32" else ".so"   # ggml names its modules .so on macOS too


@dataclass(frozen=True)
class BackendLoad:
    """What :func:`ensure_loaded` found and loaded."""

    portable: bool                      # CPU variants chosen at run time (False: one CPU build, maybe native)
    cpu_variant: str = ""               # the variant in use, e.g. "zen4" ("" for a single build)
    cpu_variants: tuple[str, ...] = ()  # every variant the build ships
    skipped: tuple[str, ...] = ()       # variants passed over on purpose, with why
    accelerators: tuple[str, ...] = ()  # GPU/accelerator backend libraries that loaded
    error: str = ""                     # why nothing could be loaded

    def describe(self) -> str:
        """One line for ``companion doctor``."""
        if self.error:
            return f"llama.cpp backends not loaded: {self.error}"
        if not self.portable:
            return ("single-target build: llama.cpp was compiled for one CPU (pip's default is "
                    "-march=native); fine here, but an installer built from it may not start on "
                    "other CPUs. Rebuild it portably with `make llama`.")
        extra = f"; also loaded: {', '.join(self.accelerators)}" if self.accelerators else ""
        if self.skipped:
            extra += f"; not used: {', '.join(self.skipped)}"
        return (f"portable build: CPU variant {self.cpu_variant} chosen at run time from "
                f"{len(self.cpu_variants)} variants{extra}")


_lock = threading.Lock()
_loaded: BackendLoad | None = None


def amx_allowed(setting: bool = False) -> bool:
    """AMX is opt-in: the setting or ``COMPANION_LLAMA_AMX=1``."""
    return setting or os.environ.get(ENV_ALLOW_AMX, "").strip().lower() in ("1", "true", "yes", "on")


def library_dir() -> Path:
    """``llama_cpp/lib`` of the installed (or bundled) llama-cpp-python."""
    import llama_cpp  # lazy: heavy native library

    return Path(llama_cpp.__file__).parent / "lib"


def ensure_loaded(allow_amx: bool = False) -> BackendLoad:
    """Load llama.cpp's backends once per process (later calls return the first result)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load(library_dir(), amx_allowed(allow_amx))
        return _loaded


def _ggml() -> ctypes.CDLL:
    """libllama's own libggml, with the registry calls typed (llama-cpp-python does not wrap them).

    Through libllama's handle, because on Linux the wheel holds libggml.so and libggml.so.0
    as two copies of one file: opening one by path would load a second ggml whose backend
    registry libllama never sees. dlsym on libllama's handle searches its dependencies;
    Windows' GetProcAddress does not, but there the one ggml.dll is shared anyway.
    """
    from llama_cpp import llama_cpp as bindings

    lib = bindings._lib
    if not hasattr(lib, "ggml_backend_reg_count"):   # ctypes looks the symbol up on first access
        from llama_cpp import _ggml as ggml

        lib = ggml.libggml
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_reg_get.restype = ctypes.c_void_p
    lib.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_reg_name.restype = ctypes.c_char_p
    lib.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_load.restype = ctypes.c_void_p
    lib.ggml_backend_load.argtypes = [ctypes.c_char_p]
    return lib


def registered() -> tuple[str, ...]:
    """Names of the backends llama.cpp has registered in this process, e.g. ("CUDA", "CPU")."""
    lib = _ggml()
    return tuple((lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i)) or b"?").decode()
                 for i in range(lib.ggml_backend_reg_count()))


def _variant(path: Path) -> str:
    """``libggml-cpu-haswell.so`` -> ``haswell``."""
    return path.name[len(_PREFIX) + len("cpu-"):-len(_SUFFIX)]


def cpu_variant_files(lib_dir: Path) -> list[Path]:
    return sorted(lib_dir.glob(f"{_PREFIX}cpu-*{_SUFFIX}"))


def accelerator_files(lib_dir: Path) -> list[Path]:
    """``libggml-cuda.so``, ``libggml-metal.so``, ...: every backend module but the CPU ones."""
    found = []
    for path in sorted(lib_dir.glob(f"{_PREFIX}*{_SUFFIX}")):
        name = path.name[len(_PREFIX):-len(_SUFFIX)]
        if name.split("-")[0] not in _NOT_ACCELERATORS:
            found.append(path)
    return found


def _score(path: Path) -> int:
    """The variant's own ``ggml_backend_score``: 0 if this CPU lacks its instructions, else higher is better."""
    try:
        lib = ctypes.CDLL(str(path))
        score = lib.ggml_backend_score
    except (OSError, AttributeError):
        return 0
    score.restype = ctypes.c_int
    return int(score())


def choose_cpu_variant(files: list[Path], allow_amx: bool, score=_score) -> tuple[Path | None, list[str]]:
    """The best-scoring usable variant, and the variants skipped on purpose (with why)."""
    best: tuple[int, Path] | None = None
    skipped = []
    for path in files:
        if _variant(path) in AMX_VARIANTS and not allow_amx:
            skipped.append(f"{_variant(path)} (AMX; set {ENV_ALLOW_AMX}=1 to use it)")
            continue
        value = score(path)
        if value > 0 and (best is None or value > best[0]):
            best = (value, path)
    return (best[1] if best else None), skipped


def _load(lib_dir: Path, allow_amx: bool) -> BackendLoad:
    ggml = _ggml()
    if ggml.ggml_backend_reg_count() > 0:
        return BackendLoad(portable=False)   # backends compiled in: a single-target build
    accelerators = tuple(path.name for path in accelerator_files(lib_dir)
                         if ggml.ggml_backend_load(str(path).encode()))   # NULL: no driver / no device
    variants = cpu_variant_files(lib_dir)
    chosen, skipped = choose_cpu_variant(variants, allow_amx)
    if chosen is None:
        plain = lib_dir / f"{_PREFIX}cpu{_SUFFIX}"     # GGML_BACKEND_DL without variants
        if plain.exists() and ggml.ggml_backend_load(str(plain).encode()):
            return BackendLoad(portable=False, accelerators=accelerators)
        return BackendLoad(portable=False, accelerators=accelerators,
                           error=f"no CPU backend in {lib_dir} runs on this CPU")
    if not ggml.ggml_backend_load(str(chosen).encode()):
        return BackendLoad(portable=True, cpu_variants=tuple(_variant(p) for p in variants),
                           accelerators=accelerators, error=f"could not load {chosen.name}")
    return BackendLoad(portable=True, cpu_variant=_variant(chosen),
                       cpu_variants=tuple(_variant(p) for p in variants),
                       skipped=tuple(skipped), accelerators=accelerators)
