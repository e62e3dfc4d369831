"""Build and install llama-cpp-python portably, reusing a wheel built earlier with the same flags.

``make run`` / ``make test`` / ``make package`` call this before installing
Companion. A plain ``pip install llama-cpp-python`` compiles llama.cpp with
``-march=native``: the binary then carries the build machine's instruction set
(an installer built on an AVX-512 machine dies with SIGILL on an AVX2 laptop) and,
on AMX CPUs, a code path that crashes on virtualised hosts. Here it is built like
llama.cpp's own releases: ``GGML_NATIVE=OFF``, backends as run-time modules
(``GGML_BACKEND_DL``) and one CPU module per instruction-set level
(``GGML_CPU_ALL_VARIANTS``); ``companion.backends.llama_backends`` picks the best
one at run time and leaves the AMX one out unless asked.

pip's own wheel cache is keyed by the source, not by ``CMAKE_ARGS``, so it would
happily hand back a native wheel built earlier. This script builds with pip's
cache off into a folder of its own, keyed by a hash of everything that shapes the
binary (version, flags, platform), and installs from there: a change of flags
means a new build, the same flags on another clone of the project on this
machine mean none.

    python scripts/build_llama.py                 # build if needed, install into this Python
    python scripts/build_llama.py --backend cuda  # or: LLAMA_BACKEND=cuda make test
    python scripts/build_llama.py --print         # the flags and the wheel folder, nothing else

Backends: ``cpu`` (default; Metal is added on Apple silicon), ``cuda``
(``COMPANION_CUDA_ARCHITECTURES`` overrides the GPU generations), ``metal``.
``COMPANION_LLAMA_CMAKE_ARGS`` appends flags; ``COMPANION_WHEEL_CACHE`` moves the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VERSION = "0.3.36"   # keep equal to the pin in pyproject.toml (tests check it)
PACKAGE = "llama-cpp-python"

PORTABLE = [
    "-DGGML_NATIVE=OFF",            # never -march=native: the binary must run on other CPUs
    "-DGGML_BACKEND_DL=ON",         # backends are modules loaded at run time
    "-DGGML_CPU_ALL_VARIANTS=ON",   # one CPU module per instruction-set level, best chosen at run time
    # llama-cpp-python installs only the targets it names; put ggml's modules next to them.
    "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib",
]
# Turing (RTX 20, T4) to Blackwell (RTX 50): one bundle for the NVIDIA GPUs in common use.
# 120 needs CUDA 12.8+; with an older toolkit set COMPANION_CUDA_ARCHITECTURES="75;80;86;89;90".
CUDA_ARCHITECTURES = "75;80;86;89;90;120"
BACKENDS = ("cpu", "cuda", "metal")


def default_backend() -> str:
    return "metal" if sys.platform == "darwin" and platform.machine() == "arm64" else "cpu"


def cmake_args(backend: str) -> list[str]:
    args = list(PORTABLE)
    if backend == "cuda":
        archs = os.environ.get("COMPANION_CUDA_ARCHITECTURES", CUDA_ARCHITECTURES)
        args += ["-DGGML_CUDA=ON", f"-DCMAKE_CUDA_ARCHITECTURES={archs}"]
    elif backend == "metal":
        args += ["-DGGML_METAL=ON", "-DGGML_METAL_EMBED_LIBRARY=ON"]
    args += os.environ.get("COMPANION_LLAMA_CMAKE_ARGS", "").split()
    return args


def build_key(backend: str, args: list[str]) -> str:
    """Everything that decides the binary; a different key means a different wheel."""
    material = json.dumps({"version": VERSION, "backend": backend, "args": args,
                           "platform": sys.platform, "machine": platform.machine()}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def cache_root() -> Path:
    if os.environ.get("COMPANION_WHEEL_CACHE"):
        return Path(os.environ["COMPANION_WHEEL_CACHE"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "companion" / "llama-wheels"


def wheel_folder(backend: str, args: list[str]) -> Path:
    return cache_root() / f"{PACKAGE}-{VERSION}-{backend}-{build_key(backend, args)}"


def build_wheel(folder: Path, args: list[str]) -> Path:
    """Compile llama-cpp-python from source with ``args`` into ``folder`` (atomically)."""
    env = dict(os.environ, CMAKE_ARGS=" ".join(args), FORCE_CMAKE="1")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".building-"))
    try:
        print(f"building {PACKAGE} {VERSION} from source (portable; 10-20 minutes on 2 cores)...", flush=True)
        print(f"  CMAKE_ARGS={env['CMAKE_ARGS']}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
                        "--no-binary", PACKAGE, "--wheel-dir", str(tmp), f"{PACKAGE}=={VERSION}"],
                       env=env, check=True)
        (tmp / "build.json").write_text(json.dumps({"args": args}, indent=1), encoding="utf-8")
        if not folder.exists():   # a parallel build of the same key may have finished first: same wheel
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def installed_marker() -> Path:
    return Path(sys.prefix) / "companion-llama-build.json"


def install(folder: Path, key: str) -> None:
    marker = installed_marker()
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")).get("key") == key:
        return
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"no wheel in {folder}; delete the folder and run again")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--force-reinstall", str(wheels[-1])], check=True)
    marker.write_text(json.dumps({"key": key, "wheel": str(wheels[-1])}), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS,
                        default=os.environ.get("LLAMA_BACKEND") or default_backend())
    parser.add_argument("--print", action="store_true", help="print the flags and wheel folder only")
    args = parser.parse_args(argv)
    flags = cmake_args(args.backend)
    folder = wheel_folder(args.backend, flags)
    if args.print:
        print(json.dumps({"backend": args.backend, "cmake_args": flags, "wheel_folder": str(folder)}, indent=1))
        return 0
    if not any(folder.glob("*.whl")):
        shutil.rmtree(folder, ignore_errors=True)
        build_wheel(folder, flags)
    install(folder, build_key(args.backend, flags))
    return 0


if __name__ == "__main__":
    sys.exit(main())
