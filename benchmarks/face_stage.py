"""The face stage alone: CPU-ms per photo with and without faces, split into detector, landmarks + gate and descriptor.

    .venv/bin/python benchmarks/face_stage.py [--photos 60] [--library DIR] [--rounds 2]

Photos are ``benchmarks/indexing.py``'s generated library (4000x3000 JPEGs, every third with a
real face), decoded as the indexer does (~1000 px). Each photo goes through the face backend
in this process, one thread, as the face child runs it; process time (so a busy machine moves
it less than wall time), best of ``--rounds``. Configurations:

- ``before``: the detector chosen for this machine, no quality gate, dlib's own descriptor code
  (what shipped before issue 23);
- ``shipped``: the same detector, the quality gate, dlib's network on onnxruntime.

Also prints the parts: detection alone, and the descriptor per face with each runtime.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def best_cpu(function, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--library", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    import dlib
    from indexing import make_library

    from companion.backends.face_detectors import detector_choice, detector_options
    from companion.backends.faces import DlibFaceBackend
    from companion.backends.imaging import PillowPhotoReader
    from companion.config import Settings

    library = args.library or Path(tempfile.mkdtemp(prefix="companion-faces-"))
    if len(list(library.glob("IMG_*.jpg"))) < args.photos:
        make_library(library, args.photos)
    reader = PillowPhotoReader()
    photos = [reader.read(p).pixels for p in sorted(library.glob("IMG_*.jpg"))[: args.photos]]
    options = detector_options(detector_choice(Settings(), REPO / ".cache" / "test-models"), None)
    cache = Path(tempfile.mkdtemp(prefix="companion-faces-cache-"))
    configs = {"before": DlibFaceBackend(**options, gate=False, descriptor="dlib"),
               "shipped": DlibFaceBackend(**options, cache_dir=cache)}
    for backend in configs.values():
        backend.detect(photos[0])                   # models loaded before timing
    counts = [len(configs["shipped"].detect(p)) for p in photos]
    with_faces = [p for p, n in zip(photos, counts, strict=True) if n]
    without = [p for p, n in zip(photos, counts, strict=True) if not n]
    print(f"{len(photos)} photos ({len(with_faces)} with {sum(counts)} faces), detector {options['detector']}, "
          f"decoded {photos[0].shape[1]}x{photos[0].shape[0]}; CPU-ms per photo, best of {args.rounds}")
    detector = configs["shipped"].detector
    detect_ms = 1000 * best_cpu(lambda: [detector.find(p) for p in photos], args.rounds) / len(photos)
    print(f"  detector alone (every photo)          {detect_ms:7.1f}")
    for name, backend in configs.items():
        for label, group in (("without a face", without), ("with a face", with_faces)):
            if group:
                ms = 1000 * best_cpu(lambda b=backend, g=group: [b.detect(p) for p in g], args.rounds) / len(group)
                print(f"  {name:8} photos {label:15} {ms:7.1f}")
        total = 1000 * best_cpu(lambda b=backend: [b.detect(p) for p in photos], args.rounds) / len(photos)
        print(f"  {name:8} all photos                  {total:7.1f}")
    shape_predictor, recognition = configs["before"]._load()
    face = configs["shipped"].detector.find(with_faces[0])[0] if with_faces else None
    if face is not None:
        left, top, right, bottom = face.box.as_list()
        shape = shape_predictor(with_faces[0], dlib.rectangle(left, top, right - 1, bottom - 1))
        chip = dlib.get_face_chip(with_faces[0], shape, 150, 0.25)
        onnx = configs["shipped"]._onnx
        dlib_ms = 1000 * best_cpu(lambda: recognition.compute_face_descriptor(chip, 0), 10)
        onnx_ms = 1000 * best_cpu(lambda: onnx.compute([chip]), 10) if onnx is not None else float("nan")
        same = float(np.dot(np.asarray(recognition.compute_face_descriptor(chip, 0)), onnx.compute([chip])[0])
                     / np.linalg.norm(onnx.compute([chip])[0]) / np.linalg.norm(
                         np.asarray(recognition.compute_face_descriptor(chip, 0)))) if onnx is not None else 0.0
        print(f"  descriptor per face: dlib {dlib_ms:.1f}, onnxruntime {onnx_ms:.1f} ({dlib_ms / onnx_ms:.1f}x); "
              f"cosine between them {same:.7f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
