"""The typed factory: one method per backend kind, each resolving its files and building its lifecycle object.

``Services`` (the composition root) asks this for every backend; each method says
exactly what it returns, so nothing between a model and the core is ``Any``. The model
kinds (``model_kinds.py``) resolve their files here: the folder of an ONNX export,
the detector and options of the face backend, an installed chat model's GGUF files. A
missing model is a ``ModelMissingError`` from the method, so ``Services.optional`` can
tell. ``idle_unload_seconds`` is read from the settings object on every idle check (the
app changes that object in place: ``app.settings.update``).

Heavy libraries stay unimported until a backend is built: every backend module is
imported inside its method. ``registry.py`` lists the same modules for the installer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from companion.config import Settings
from companion.core.protocols import ImageEmbedder, TextEmbedder
from companion.paths import Paths

from .lifecycle import Lifecycle
from .llama_process import ChatFiles, LlamaChild, LlamaOptions
from .model_kinds import ChatModel, FaceFinder, FaceModel, ImageEmbedderModel, TextEmbedderModel

if TYPE_CHECKING:
    from .geocode import OfflineGeocoder
    from .imaging import PillowPhotoReader


@dataclass(frozen=True)
class FaceSetup:
    """What the face backend loads from (plain data: it crosses to the child): the detector and
    its options (BlazeFace's model file), where the identity network is converted once, and
    whether it runs in a child process."""

    detector: str
    detector_options: tuple[tuple[str, str], ...]
    cache_dir: str
    process: bool


def load_faces(setup: FaceSetup) -> FaceFinder:
    """The face backend of ``setup``: dlib in a child process (``FaceProcess``) or in this one."""
    from .face_process import FaceProcess
    from .faces import DlibFaceBackend

    options = dict(setup.detector_options) or None
    if setup.process:
        return FaceProcess(detector=setup.detector, detector_options=options, cache_dir=setup.cache_dir)
    return DlibFaceBackend(detector=setup.detector, detector_options=options, cache_dir=setup.cache_dir)


class BackendFactory:
    """Builds one profile's backends from its paths and (live) settings."""

    def __init__(self, paths: Paths, settings: Settings) -> None:
        self.paths = paths
        self.settings = settings

    def idle_unload_seconds(self) -> float:
        return float(self.settings.idle_unload_seconds)

    def photo_reader(self) -> PillowPhotoReader:
        from .imaging import PillowPhotoReader

        return PillowPhotoReader()

    def geocoder(self) -> OfflineGeocoder:
        from .geocode import OfflineGeocoder

        return OfflineGeocoder()

    def text_embedder(self) -> TextEmbedderModel[Path]:
        """MiniLM from ``models_dir/all-minilm-l6-v2``."""
        from .text_embed import DEFAULT_DIRNAME, OnnxTextEmbedder

        def load(folder: Path) -> TextEmbedder:
            return OnnxTextEmbedder(folder)

        return TextEmbedderModel(Lifecycle(load, self.idle_unload_seconds, label="text_embedder"),
                                 self.paths.models_dir / DEFAULT_DIRNAME)

    def image_embedder(self) -> ImageEmbedderModel[Path]:
        """CLIP from ``models_dir/clip-vit-b-32``; one with random weights is refused (``clip_onnx.open_embedder``)."""
        from .clip_onnx import DEFAULT_DIRNAME, open_embedder

        cache_dir = self.paths.cache_dir

        def load(folder: Path) -> ImageEmbedder:
            return open_embedder(folder, cache_dir)

        return ImageEmbedderModel(Lifecycle(load, self.idle_unload_seconds, label="image_embedder"),
                                  self.paths.models_dir / DEFAULT_DIRNAME)

    def face_setup(self, process: bool | None = None) -> FaceSetup:
        """dlib's identity model on the detector chosen for this machine and settings, in a child
        process where there is a second core to give it (``process``: force it either way)."""
        from .face_detectors import detector_choice, detector_options

        models_dir = self.paths.models_dir
        options = detector_options(detector_choice(self.settings, models_dir), models_dir)
        if process is None:
            process = (os.cpu_count() or 1) >= 2    # with one core, a second interpreter would only cost memory
        return FaceSetup(str(options["detector"]), tuple(options.get("detector_options", {}).items()),
                         str(self.paths.cache_dir), process)

    def face_backend(self) -> FaceModel[FaceSetup]:
        return FaceModel(Lifecycle(load_faces, self.idle_unload_seconds, label="faces"), self.face_setup())

    def resolve_chat(self, name: str) -> ChatFiles:
        """An installed chat model's files (cheap: no load); ``ModelMissingError`` when it is not installed."""
        from .model_manager import resolve_model

        model, mmproj = resolve_model(name, self.paths, self.settings)
        return ChatFiles(name, model, mmproj)

    def chat_lifecycle(self) -> Lifecycle[ChatFiles, LlamaChild]:
        """The chat model kind's lifecycle: one chat model resident, in its child process."""
        def load(files: ChatFiles) -> LlamaChild:
            return LlamaChild(files, self.settings)

        return Lifecycle(load, self.idle_unload_seconds, label="chat model")


def open_chat_model(files: ChatFiles, settings: Settings | None = None, **options: Unpack[LlamaOptions]) -> ChatModel:
    """A chat model with a lifecycle of its own (the evaluation, benchmarks, tests), loaded now in its
    child process with ``options``; never released when idle, ``close()`` ends it."""
    def load(chosen: ChatFiles) -> LlamaChild:
        return LlamaChild(chosen, settings, **options)

    lifecycle = Lifecycle(load, lambda: 0.0, label="chat model")
    try:
        return ChatModel(lifecycle, files, owner=True)
    except BaseException:
        lifecycle.close()
        raise
