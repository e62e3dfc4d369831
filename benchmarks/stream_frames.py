"""How many of our own frames a streamed token crosses between the LLM child's pipe and the
caller of ``Services``' chat model (``services.language_model(name).stream(...)``).

Runs the app's wiring on the Gemma 3 270M test model (``.cache/test-models``, added as a local
model to a throwaway profile) in its child process. At each token the reader of the child's
answers (``ChildProcess.stream``) yields, the frames between it and the caller are walked
(generator frames are on the stack while they run): every one whose code lives in
``companion/`` counts, ``ChildProcess.stream`` itself included. Prints the count and the
functions, so a before/after comparison shows which layers went.

    python benchmarks/stream_frames.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GEMMA = REPO / ".cache" / "test-models" / "gemma-3-270m-q4_k_m.gguf"
PACKAGE = str(REPO / "companion")


def main() -> None:
    from companion.backends import child_process, model_manager
    from companion.core.protocols import ChatMessage, GenerationRequest

    chains: list[list[str]] = []
    original = child_process.ChildProcess.stream

    def counting(self: object, *args: object, **kwargs: object) -> Iterator[object]:
        for part in original(self, *args, **kwargs):  # type: ignore[arg-type]
            # Frame 0 is this wrapper; 1 is whatever resumed it, up to the caller below.
            frame = sys._getframe(1)
            chain = ["ChildProcess.stream"]
            while frame is not None and frame.f_code.co_name != "caller":
                if frame.f_code.co_filename.startswith(PACKAGE):
                    chain.append(f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}")
                frame = frame.f_back
            chains.append(chain)
            yield part

    child_process.ChildProcess.stream = counting  # type: ignore[method-assign]
    work = Path(tempfile.mkdtemp(prefix="companion-frames-"))
    os.environ["COMPANION_HOME"] = str(work / "home")
    from companion.app.services import Services

    services = Services.open()
    try:
        model_manager.add_local(services.paths, "gemma", [GEMMA])
        model = services.language_model("gemma")
        assert model is not None

        def caller() -> str:
            request = GenerationRequest([ChatMessage("user", "1, 2, 3,")], max_tokens=4, temperature=0.0)
            return "".join(model.stream(request))

        text = caller()
    finally:
        services.close()
    chain = chains[0]
    print(f"{len(chains)} tokens ({text!r}); our frames from the child's pipe to Services' caller: {len(chain)}")
    print("  " + " <- ".join(chain))


if __name__ == "__main__":
    main()
