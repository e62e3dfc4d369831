"""The installed llama.cpp is the portable build: CPU variants chosen at run time, AMX off unless asked.

A build compiled with -march=native runs here but dies with SIGILL on an older CPU
once it is in an installer, and ggml's AMX code crashes on virtualised Sapphire
Rapids hosts; these tests fail on either.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from companion.backends import llama_backends
from companion.backends.llama_backends import AMX_VARIANTS, choose_cpu_variant

REPO = Path(__file__).resolve().parents[2]
PROBE = ("import dataclasses, json; from companion.backends.hardware import llama_build; "
         "print(json.dumps(dataclasses.asdict(llama_build())))")


def probe(**env: str) -> dict[str, object]:
    """``llama_build()`` in a fresh process (backends are loaded once per process)."""
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_installed_build_is_portable_and_does_not_use_amx_by_default() -> None:
    info = probe(COMPANION_LLAMA_AMX="0")
    assert info["available"], info["error"]
    assert info["portable"], f"llama.cpp is a single-target (native) build: {info['summary']}"
    assert info["cpu_variant"] and info["cpu_variant"] not in AMX_VARIANTS
    system_info = str(info["system_info"])
    assert system_info.startswith("CPU :"), system_info
    assert "AMX_INT8 = 1" not in system_info
    assert "CPU" in info["backends"]  # type: ignore[operator]


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 variant names")
def test_the_build_ships_a_variant_for_every_x86_64_cpu() -> None:
    names = {path.name for path in llama_backends.cpu_variant_files(llama_backends.library_dir())}
    # x64 runs on any x86-64 CPU; haswell is the AVX2 baseline of most laptops since 2013.
    for variant in ("x64", "haswell", "skylakex"):
        assert any(variant in name for name in names), names


def test_amx_variant_only_when_asked() -> None:
    files = [Path(f"libggml-cpu-{name}.so") for name in ("x64", "haswell", "sapphirerapids", "icelake")]
    scores = {"x64": 1, "haswell": 5, "icelake": 20, "sapphirerapids": 40}

    def score(path: Path) -> int:
        return scores[path.stem.removeprefix("libggml-cpu-")]

    chosen, skipped = choose_cpu_variant(files, allow_amx=False, score=score)
    assert chosen is not None and chosen.name == "libggml-cpu-icelake.so"
    assert skipped and "sapphirerapids" in skipped[0] and "COMPANION_LLAMA_AMX=1" in skipped[0]
    chosen, skipped = choose_cpu_variant(files, allow_amx=True, score=score)
    assert chosen is not None and chosen.name == "libggml-cpu-sapphirerapids.so" and not skipped


def test_a_variant_this_cpu_cannot_run_is_never_chosen() -> None:
    files = [Path("libggml-cpu-x64.so"), Path("libggml-cpu-zen4.so")]
    chosen, _ = choose_cpu_variant(files, allow_amx=False, score=lambda p: 0 if "zen4" in p.name else 3)
    assert chosen is not None and chosen.name == "libggml-cpu-x64.so"
    chosen, _ = choose_cpu_variant(files, allow_amx=False, score=lambda p: 0)
    assert chosen is None


def test_the_amx_switch_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(llama_backends.ENV_ALLOW_AMX, raising=False)
    assert not llama_backends.amx_allowed()
    assert llama_backends.amx_allowed(setting=True)
    monkeypatch.setenv(llama_backends.ENV_ALLOW_AMX, "1")
    assert llama_backends.amx_allowed()


def test_with_amx_allowed_the_choice_still_follows_the_cpu() -> None:
    info = probe(COMPANION_LLAMA_AMX="1")
    assert info["portable"] and "not used" not in str(info["summary"])
    has_amx = "amx_int8" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else False
    assert (info["cpu_variant"] in AMX_VARIANTS) == has_amx
