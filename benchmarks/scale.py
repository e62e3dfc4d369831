"""Scale: what a user waits for before the language model starts, on libraries of 10k to 1M photos.

Run (profiles are built once into .cache/scale/, about a minute per 100k photos):

    PYTHONPATH=. python benchmarks/scale.py [--sizes 10000 100000] [--million] [--queries 200]

For each size it prints p50/p95 (ms) of the whole pre-generation part of ``ask`` (a photo
question, a text question, and the question planner's questions: a time window, a place, facts
about a person and the last action, each in two languages, also one by one), CLIP text-to-photo
search, face matching of a new photo, memory retrieval and indexing one new photo into the
profile, each next to a numpy brute force over the same vectors, measured in the same run
(ratios travel between machines, absolute numbers do not), and how often the store's top-k
equals the exact top-k. Then the database size on disk, the memory the vector indexes hold
and what they cost to load.

Model inference on the question photo (face detection and embedding, CLIP image/text
encoding, MiniLM) does not grow with the library: the benchmark feeds synthetic perception
vectors into the real code path through stand-in backends and times everything after
inference; ``--inference`` times the real models separately where they are installed.

To add a step to the path of a question (a planner, say), add a question to QUESTIONS or
an operation to ``operations()``: each is a name, the real call, and its numpy baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_profile import CITIES, END, REPO, YEARS, Spec, VectorModel, concept_names, copy_profile, ensure_profile

from companion import config
from companion.app import library
from companion.app.services import Services
from companion.core.answer.pipeline import ask
from companion.core.answer.retrieve import search_memories
from companion.core.memory import dates
from companion.core.store import Store
from companion.core.store.db import timestamp, vec_blob

try:   # absent before the in-memory indexes (the script also measures older builds for comparison)
    from companion.core.store.photos import PhotoCursor
    from companion.core.store.vectors import LOAD_ON_SECOND_SEARCH, MAX_IN_MEMORY
except ImportError:
    PhotoCursor, LOAD_ON_SECOND_SEARCH, MAX_IN_MEMORY = None, 0, 0
from companion.core.types import Box, DecodedPhoto, DetectedFace
from companion.paths import resolve

# Questions asked in turn ({name}: a known person or pet; {person}: a known person; {city}: a place in the
# library; {year}: a year of it).
QUESTIONS = {
    "photo": ["Where did I last see her?", "Who is this?", "What was I doing the last time I told you about them?",
              "Is {name} in this photo?"],
    "text": ["What did I do with {name} in {city}?", "When did I last see {name}?",
             "What was I doing the last time I told you about {name}?", "Tell me about my trip to {city}."],
    # What the question planner reads (issue 18: a time window, a place, facts about someone, the last
    # action), each in two languages; each runs the plan's record queries.
    "planner": ["Who did I see in March {year}?", "Wen habe ich im März {year} gesehen?",
                "What did I do last summer?", "¿Qué hice el verano pasado?",
                "When was I last in {city}?", "Wann war ich zuletzt in {city}?",
                "Have I been to {city} with anyone?", "¿He estado en {city} con alguien?",
                "What does {person} do?", "Que fait {person} ?",
                "What was I doing the last time I told you about {person}?",
                "¿Qué estaba haciendo la última vez que te hablé de {person}?"],
}
K_PHOTOS = 20


# ---- stand-in backends: the real code path runs, the model's answer is prepared ------------------


@dataclass
class Prepared:
    """What the stand-in models return for the next call (set before each question)."""

    faces: list[np.ndarray] = field(default_factory=list)
    image: np.ndarray | None = None
    text: np.ndarray | None = None     # CLIP text vector
    memory: np.ndarray | None = None   # MiniLM vector


class Reader:
    name = "synthetic"

    def read(self, path: Path) -> DecodedPhoto:
        return DecodedPhoto(np.zeros((4, 4, 3), np.uint8), 4000, 3000, 0.25, END, "exif", 41.1, 5.1)

    def thumbnail(self, photo: DecodedPhoto, destination: Path) -> None:
        return None


class Faces:
    name, dim = "synthetic", 128

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared

    def detect(self, pixels: np.ndarray) -> list[DetectedFace]:
        return [DetectedFace(Box(100 * i, 100, 100 * i + 80, 180), v, 0.99) for i, v in enumerate(self.prepared.faces)]


class Clip:
    name, dim = "synthetic", 512

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared

    def embed_images(self, images: Any) -> np.ndarray:
        return np.stack([self.prepared.image] * len(images))

    def embed_texts(self, texts: Any) -> np.ndarray:
        return np.stack([self.prepared.text] * len(texts))


class MiniLM:
    name, dim = "synthetic", 384

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared

    def embed(self, texts: Any) -> np.ndarray:
        return np.stack([self.prepared.memory] * len(texts))


class Geocoder:
    def reverse(self, latitude: float, longitude: float) -> Any:
        return CITIES[1]

    def find_places(self, text: str) -> list[Any]:
        return []


class Probe:
    """A language model that notes when it is asked to generate: the end of the pre-generation part.

    A JSON request (the planner's plan when its rules found no kind of question) is model inference
    before the answer: it gets an empty plan and is counted, not timed.
    """

    name, supports_images, context_length = "probe", False, 8192

    def __init__(self) -> None:
        self.asked_at: float | None = None
        self.json_calls = 0

    def stream(self, request: Any, cancel: threading.Event | None = None) -> Iterator[str]:
        if getattr(request, "json_schema", None) is not None:
            self.json_calls += 1
            return iter(["{}"])
        self.asked_at = time.perf_counter()
        return iter(["..."])

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        return None


# ---- the numpy baseline ---------------------------------------------------------------------


class Exact:
    """A numpy brute force over one vector table, read straight from the database."""

    def __init__(self, store: Store, table: str, key: str) -> None:
        rows = store.db.query(f"SELECT {key}, embedding FROM {table}")
        self.ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        matrix = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
        self.matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def top(self, query: np.ndarray, k: int) -> list[int]:
        distances = 1.0 - self.matrix @ (query / np.linalg.norm(query))
        part = np.argpartition(distances, min(k, len(distances) - 1))[:k]
        return self.ids[part[np.lexsort((self.ids[part], distances[part]))]].tolist()


# ---- measuring ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    ms: list[float] = field(default_factory=list)
    base_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)     # sqlite-vec MATCH, the pre-index path
    same: int = 0
    checked: int = 0

    def row(self) -> str:
        def p(values: list[float], q: float) -> str:
            return f"{np.percentile(values, q):8.2f}" if values else f"{'-':>8}"
        ratio = statistics.median(self.ms) / statistics.median(self.base_ms) if self.base_ms else float("nan")
        same = f"{self.same / self.checked:7.1%}" if self.checked else f"{'-':>7}"
        return (f"{self.name:<38}{p(self.ms, 50)}{p(self.ms, 95)}{p(self.base_ms, 50)}{p(self.base_ms, 95)}"
                f"{ratio:8.2f}x{p(self.sql_ms, 50)}{p(self.sql_ms, 95)}  {same}")


HEADER = (f"{'operation':<38}{'p50':>8}{'p95':>8}{'np p50':>8}{'np p95':>8}{'ratio':>9}"
          f"{'vec0 p50':>8}{'vec0 p95':>8}  same top-k")


def timed(function: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(milliseconds, value) of ``function(*args)``; arguments, not closures, so a loop's values are bound."""
    started = time.perf_counter()
    value = function(*args)
    return (time.perf_counter() - started) * 1000, value


class Bench:
    """One profile opened through the real composition root, with stand-in perception models."""

    def __init__(self, home: Path, spec: Spec, queries: int, seed: int = 0) -> None:
        self.spec, self.queries = spec, queries
        self.rng = np.random.default_rng(seed)
        self.model = VectorModel(spec)
        self.names = concept_names(spec)
        paths = resolve(home).ensure()
        self.open_ms, store = timed(lambda: Store.open(paths.db_path))
        self.services = Services(paths, config.load(paths.settings_path), store)
        self.prepared = Prepared()
        self.services.__dict__.update(photo_reader=Reader(), face_backend=Faces(self.prepared),
                                      image_embedder=Clip(self.prepared), text_embedder=MiniLM(self.prepared),
                                      geocoder=Geocoder())
        self.probe = Probe()
        self.deps = replace(self.services.deps(with_model=False), model=self.probe)
        self.store = store
        self.photo = home / "question.jpg"
        self.photo.write_bytes(b"not decoded: the stand-in reader returns the pixels")
        self.new_photos = home / "new"
        self.new_photos.mkdir(exist_ok=True)
        self.by_question: dict[tuple[str, str], list[float]] = {}   # (kind, template) -> ms

    # -- perception vectors for one question
    def person(self) -> int:
        return int(self.rng.integers(0, self.spec.people))

    def thing(self) -> int:
        return int(self.spec.people + self.rng.integers(0, self.spec.pets + self.spec.objects))

    def prepare_photo(self) -> tuple[int, int]:
        person, pet = self.person(), self.thing()
        stranger = self.spec.face_groups + int(self.rng.integers(0, 1000))
        self.prepared.faces = list(self.model.faces(self.rng, np.array([person, stranger])))
        self.prepared.image = self.model.photos(self.rng, np.array([pet % self.spec.scenes]))[0]
        self.prepared.memory = self.model.memory_query(self.rng, int(self.rng.integers(0, self.spec.topics)))
        return person, pet

    def template(self, kind: str, i: int) -> str:
        return QUESTIONS[kind][i % len(QUESTIONS[kind])]

    def question(self, kind: str, i: int) -> str:
        name = self.names[self.person() if i % 2 else self.thing()][0]
        person = self.names[self.person()][0]
        year = END.year - 1 - (i // len(QUESTIONS[kind])) % (YEARS - 1)
        return self.template(kind, i).format(name=name, person=person, city=CITIES[i % len(CITIES)].city, year=year)

    def pre_generation(self, kind: str, i: int) -> float:
        """Milliseconds from calling ask() to the model being asked to generate."""
        if kind == "photo":
            self.prepare_photo()
        else:
            self.prepared.memory = self.model.memory_query(self.rng, int(self.rng.integers(0, self.spec.topics)))
        self.probe.asked_at = None
        started = time.perf_counter()
        events = ask(self.deps, self.question(kind, i), self.photo if kind == "photo" else None, temporary=True)
        for _ in events:
            if self.probe.asked_at is not None:
                break
        events.close()
        assert self.probe.asked_at is not None, "ask() never reached the model"
        return (self.probe.asked_at - started) * 1000


def operations(b: Bench, exact: dict[str, Exact], vec0_queries: int) -> list[Result]:
    settings, store = b.services.settings, b.store
    face_cut, image_cut = settings.face_match_distance, 1.0 - settings.image_match_similarity

    def key_match(table: str, query: np.ndarray, cut: float) -> None:
        exact[table].top(query, 8)   # the same k=8 search concepts.match runs, then its threshold

    results = []
    for kind in ("photo", "text", "planner"):
        r = Result(f"ask, {kind} question (pre-generation)")
        for i in range(b.queries):
            r.ms.append(b.pre_generation(kind, i))
            b.by_question.setdefault((kind, b.template(kind, i)), []).append(r.ms[-1])
            faces, image, memory = list(b.prepared.faces), b.prepared.image, b.prepared.memory

            def baseline(kind: str, faces: list[np.ndarray], image: np.ndarray, memory: np.ndarray) -> None:
                if kind == "photo":
                    for face in faces:
                        key_match("vec_ref_faces", face, face_cut)
                    key_match("vec_ref_images", image, image_cut)
                exact["vec_memories"].top(memory, 24)
            r.base_ms.append(timed(baseline, kind, faces, image, memory)[0])
        results.append(r)

    r = Result(f"CLIP text->photo search (k={K_PHOTOS})")
    for i in range(b.queries):
        b.prepared.text = b.model.text_query(b.rng, int(b.rng.integers(0, b.spec.scenes)))
        ms, hits = timed(lambda: library.search_photos(b.services, "a photo of the beach", K_PHOTOS))
        base_ms, expected = timed(lambda: exact["vec_images"].top(b.prepared.text, K_PHOTOS))
        r.ms.append(ms)
        r.base_ms.append(base_ms)
        r.same += [hit.photo.id for hit in hits] == expected
        r.checked += 1
        if i < vec0_queries:
            sql = "SELECT photo_id, distance FROM vec_images WHERE embedding MATCH ? AND k = ?"
            r.sql_ms.append(timed(store.db.query, sql, (vec_blob(b.prepared.text), K_PHOTOS))[0])
    results.append(r)

    r = Result("face matching, new photo (2 faces)")
    for i in range(b.queries):
        b.prepare_photo()
        faces = b.prepared.faces
        ms, found = timed(lambda fs: [store.concepts.match("face", f, face_cut) for f in fs], faces)
        r.ms.append(ms)
        r.base_ms.append(timed(lambda fs: [exact["vec_ref_faces"].top(f, 8) for f in fs], faces)[0])
        if hasattr(store, "vectors"):
            got = [store.vectors["vec_ref_faces"].search(f, 8) for f in faces]
            r.same += [[i for i, _ in g] for g in got] == [exact["vec_ref_faces"].top(f, 8) for f in faces]
            r.checked += 1
        if i < vec0_queries:
            sql = "SELECT ref_id, distance FROM vec_ref_faces WHERE embedding MATCH ? AND k = 8"
            r.sql_ms.append(timed(lambda q, fs: [store.db.query(q, (vec_blob(f),)) for f in fs], sql, faces)[0])
    results.append(r)

    r = Result("memory retrieval (FTS5 + vectors)")
    for i in range(b.queries):
        b.prepared.memory = b.model.memory_query(b.rng, int(b.rng.integers(0, b.spec.topics)))
        text = b.question("text", i)
        r.ms.append(timed(lambda t: search_memories(store, t, b.services.text_embedder), text)[0])
        r.base_ms.append(timed(lambda: exact["vec_memories"].top(b.prepared.memory, 24))[0])
        r.same += [m for m, _ in store.memories.search_vector(b.prepared.memory, 24)] == \
            exact["vec_memories"].top(b.prepared.memory, 24)
        r.checked += 1
        if i < vec0_queries:
            sql = "SELECT memory_id, distance FROM vec_memories WHERE embedding MATCH ? AND k = 24"
            r.sql_ms.append(timed(store.db.query, sql, (vec_blob(b.prepared.memory),))[0])
    results.append(r)

    r = Result("index one new photo (2 faces)")
    for i in range(min(b.queries, 100)):
        path = b.new_photos / f"new-{i}.jpg"
        path.write_bytes(os.urandom(64))
        b.prepare_photo()
        faces, image = list(b.prepared.faces), b.prepared.image
        ms, run = timed(lambda target: list(library.index(b.services, [target])), path)
        assert run[-1].new == 1, run[-1]

        def index_baseline(faces: list[np.ndarray], image: np.ndarray) -> None:
            for face in faces:
                exact["vec_ref_faces"].top(face, 8)
                exact["vec_faces"].top(face, 16)     # clustering: the face's neighbours
            exact["vec_ref_images"].top(image, 8)
        r.ms.append(ms)
        r.base_ms.append(timed(index_baseline, faces, image)[0])
    results.append(r)
    return results


def planner_questions(b: Bench) -> None:
    """Each planner question alone: what the plan read, which record queries ran, p50/p95."""
    from companion.core.answer.perceive import Perception, named_in_text
    from companion.core.answer.records import gather
    from companion.core.answer.understand import understand

    print(f"the planner's questions one by one ({b.probe.json_calls} asked the model for a plan; "
          "asks / window / place as the rules read them; queries the plan ran):")
    for (kind, template), ms in b.by_question.items():
        if kind != "planner":
            continue
        question = b.question(kind, QUESTIONS[kind].index(template))
        perception = Perception()
        perception.recognized += named_in_text(b.deps, question, perception.recognized)
        plan = understand(b.deps, question, perception, use_model=False)
        queries = ",".join(dict.fromkeys(gather(b.store, plan).queries)) or "-"
        read = "/".join(x for x in (",".join(plan.asks) or "?", plan.window.text if plan.window else "",
                                    plan.place.label() if plan.place else "") if x)
        print(f"  {template:<62} {plan.language.code} {read:<28} {queries:<24}"
              f" p50 {np.percentile(ms, 50):6.2f}  p95 {np.percentile(ms, 95):6.2f}  (n={len(ms)})")


def pages(b: Bench, photos: int) -> None:
    """What a page of the Photos view costs at the top and half-way down the library."""
    print("the Photos view's pages (200 photos, newest first), at the top and half-way down the library:")
    if PhotoCursor is None:
        print("  photo_page: not in this build")
        return
    half = b.store.photos.list(limit=1, offset=photos // 2)[0]
    middle = PhotoCursor(timestamp(half.taken_at), half.id)
    calls = [("photo_page, first page", lambda: library.photo_page(b.services, limit=200)),
             ("photo_page, half-way (keyset cursor)",
              lambda: library.photo_page(b.services, after=middle, limit=200)),
             ("list(offset=half), the way before", lambda: b.store.photos.list(limit=200, offset=photos // 2))]
    for label, call in calls:
        ms = sorted(timed(call)[0] for _ in range(20))
        print(f"  {label:<40} p50 {ms[10]:7.2f} ms  p95 {ms[18]:7.2f} ms")


def megabytes(path: Path) -> float:
    return sum(f.stat().st_size for f in path.glob("*") if f.is_file()) / 1e6


def run_size(cache: Path, photos: int, queries: int, vec0_queries: int) -> None:
    spec = Spec(photos)
    home = ensure_profile(cache, spec)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        copy_ms, _ = timed(lambda: copy_profile(home, Path(tmp) / "home"))
        b = Bench(Path(tmp) / "home", spec, queries)
        store = b.store
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cold_ms = b.pre_generation("photo", 0)       # loads the indexes the question needs
        b.prepared.text = b.model.text_query(b.rng, 0)
        first_search_ms, _ = timed(lambda: library.search_photos(b.services, "first search", K_PHOTOS))
        second_search_ms, _ = timed(lambda: library.search_photos(b.services, "second search", K_PHOTOS))
        b.store.faces.nearest(b.prepared.faces[0], 16, 0.07)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        dates.warm_up()    # dateparser's data, which the app's warm-up loads when its window shows
        exact = {t: Exact(store, t, k) for t, k in (("vec_images", "photo_id"), ("vec_faces", "face_id"),
                                                     ("vec_ref_faces", "ref_id"), ("vec_ref_images", "ref_id"),
                                                     ("vec_memories", "memory_id"))}
        stats = store.stats()
        print(f"\n== {photos:,} photos: {stats['faces']:,} faces, {stats['concepts']} concepts "
              f"({len(exact['vec_ref_faces'].ids):,} face keys, {len(exact['vec_ref_images'].ids)} image keys), "
              f"{stats['memories']:,} memories, {stats['turns']:,} turns, {stats['observations']:,} observations")
        print(f"database on disk: {megabytes(Path(tmp) / 'home' / 'data'):,.0f} MB; "
              f"{queries} queries per row ({min(queries, 100)} for indexing), vec0 column over "
              f"{vec0_queries}; times in ms")
        results = operations(b, exact, vec0_queries)
        print(HEADER)
        for result in results:
            print(result.row())
        planner_questions(b)
        pages(b, photos)
        print("start-up:")
        print(f"  open the store (migrations checked): {b.open_ms:.0f} ms")
        print(f"  first photo question after opening (loads face keys, image keys, memories): {cold_ms:.0f} ms")
        if not hasattr(store, "vectors"):
            first, second = "sqlite-vec", "sqlite-vec"
        elif photos > MAX_IN_MEMORY:
            first = second = f"sqlite-vec: over {MAX_IN_MEMORY:,} vectors the table stays on disk"
        elif photos >= LOAD_ON_SECOND_SEARCH:
            first, second = "sqlite-vec answers it, nothing loaded", f"loads the {photos:,} photo vectors"
        else:
            first, second = "loads the index", "warm"
        print(f"  first text->photo search after opening: {first_search_ms:.0f} ms ({first})")
        print(f"  second text->photo search: {second_search_ms:.0f} ms ({second})")
        total = 0
        for s in store.vectors.stats() if hasattr(store, "vectors") else []:
            total += s["bytes"]
            print(f"  index {s['table']:<15} {s['vectors']:>9,} vectors  {s['bytes'] / 1e6:8.1f} MB  "
                  f"loaded in {s['load_seconds'] * 1000:6.0f} ms")
        print(f"  all indexes: {total / 1e6:.1f} MB (process peak RSS {rss_before:.0f} -> {rss_after:.0f} MB "
              f"over the loads)")
        print(f"  (copying the cached profile for this run took {copy_ms / 1000:.1f} s)")
        b.services.close()


def inference(queries: int) -> None:
    """The real models' cost per question photo, when they are installed (constant in library size)."""
    models = REPO / ".cache" / "test-models"
    print("\n== inference on the question photo (does not grow with the library)")
    try:
        from companion.backends.clip_onnx import OnnxClipEmbedder
        from companion.backends.faces import DlibFaceBackend
        from companion.backends.text_embed import OnnxTextEmbedder
    except ImportError as exc:
        print(f"  not measured: {exc}")
        return
    pixels = (np.random.default_rng(0).integers(0, 255, size=(750, 1000, 3))).astype(np.uint8)
    steps: list[tuple[str, Callable[[], Any]]] = []
    clip_dirs = sorted(models.glob("clip*")) if models.is_dir() else []
    try:
        faces = DlibFaceBackend()
        steps.append(("face detection, dlib HOG (1000x750 noise: no face)", lambda: faces.detect(pixels)))
    except Exception as exc:  # noqa: BLE001 - report, do not fail the benchmark
        print(f"  faces: not measured ({exc})")
    if clip_dirs:
        clip = OnnxClipEmbedder(clip_dirs[0])
        steps.append(("CLIP image encoding (ViT-B-32 ONNX)", lambda: clip.embed_images([pixels])))
        steps.append(("CLIP text encoding", lambda: clip.embed_texts(["a dog on the beach"])))
    else:
        print(f"  CLIP: not measured (no export in {models})")
    try:
        minilm = OnnxTextEmbedder(models / "minilm")
        steps.append(("MiniLM sentence embedding", lambda: minilm.embed(["what did I do with Anna in Lyon?"])))
    except Exception as exc:  # noqa: BLE001
        print(f"  MiniLM: not measured ({exc})")
    for name, step in steps:
        step()
        ms = [timed(step)[0] for _ in range(max(3, queries // 10))]
        print(f"  {name:<48} p50 {statistics.median(ms):8.1f} ms  p95 {np.percentile(ms, 95):8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="add a 1,000,000-photo profile (~3 GB, ~15 min)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vec0-queries", type=int, default=30, help="queries for the sqlite-vec MATCH column")
    parser.add_argument("--inference", action="store_true", help="also time the real models, where installed")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "scale")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    # What Services does for the app (app.services.single_threaded_blas), set here too so that the numpy
    # baseline runs the same way whichever build is measured.
    from threadpoolctl import threadpool_limits
    threadpool_limits(1, user_api="blas")
    sizes = list(args.sizes) + ([1_000_000] if args.million else [])
    load = os.getloadavg()
    print(f"scale benchmark: {os.cpu_count()} CPUs, load average {load[0]:.1f}; numpy {np.__version__}")
    print("Everything after model inference is measured: the question photo's faces and CLIP vector, and the")
    print("MiniLM query vector, come from stand-in backends (synthetic vectors into the real code path).")
    print("'np' = numpy brute force over the same vectors, same run: the searches the operation needs, alone;")
    print("'vec0' = the same search as sqlite-vec MATCH (the path before the in-memory index).")
    for photos in sizes:
        run_size(args.cache, photos, args.queries, args.vec0_queries)
    if args.inference:
        inference(args.queries)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
