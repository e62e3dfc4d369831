"""Model manager on real (small) GGUF files written with the gguf package; no network."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path
from typing import get_args, get_type_hints

import numpy as np
import pytest

from companion.backends import catalog as catalog_module
from companion.backends import gguf_header
from companion.backends import model_manager as mm
from companion.core.errors import CompanionError, DownloadUnreachableError, ModelError, ModelMissingError, NotFoundError
from companion.paths import Paths, resolve


def write_gguf(path: Path, arch: str, kv: dict[str, object], tensors: dict[str, np.ndarray]) -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch=arch)
    for key, value in kv.items():
        if isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        elif isinstance(value, list):
            writer.add_array(key, value)
        else:
            writer.add_string(key, str(value))
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture
def paths(companion_home: Path) -> Paths:
    return resolve(companion_home).ensure()


@pytest.fixture
def text_model(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "tiny-llama.gguf", "llama",
                      {"llama.embedding_length": 64, "llama.context_length": 2048, "general.license": "mit",
                       "tokenizer.ggml.tokens": [f"t{i}" for i in range(300)]},
                      {"token_embd.weight": np.zeros((10, 64), np.float32)})


def projector(path: Path, width: int) -> Path:
    return write_gguf(path, "clip", {"clip.has_vision_encoder": True, "clip.projector_type": "gemma3",
                                     "clip.vision.projection_dim": width},
                      {"mm.input_projection.weight": np.zeros((8, width), np.float32)})


def test_catalog_lists_recommended_models_and_invents_no_checksums() -> None:
    catalog = catalog_module.load_catalog()
    assert {"smolvlm-256m", "qwen2.5-vl-3b", "gemma-3-4b", "clip-vit-b-32", "dlib-faces"} <= set(catalog)
    for entry in catalog.values():
        assert entry.license and entry.files and entry.ram_mb > 0
        for spec in entry.files:
            assert spec.sha256 == "" or re.fullmatch(r"[0-9a-f]{64}", spec.sha256)
        if entry.kind == "vlm":
            assert entry.repo.split("/")[0] in ("ggml-org", "Qwen") and {f.role for f in entry.files} == {
                "model", "mmproj"}
        # The catalog is read as typed values: each kind, source and file role is one the code knows.
        assert entry.kind in get_args(catalog_module.ModelKind)
        assert entry.source in get_args(get_type_hints(catalog_module.CatalogEntry)["source"])
        assert {f.role for f in entry.files} <= set(get_args(get_type_hints(catalog_module.ModelFile)["role"]))


def test_read_gguf_reads_metadata_and_tensor_shapes(text_model: Path, tmp_path: Path) -> None:
    info = gguf_header.read_gguf(text_model)
    assert info.metadata["general.architecture"] == "llama"
    assert info.metadata["tokenizer.ggml.tokens"] == 300          # large arrays: length only
    assert info.tensors["token_embd.weight"] == (64, 10)           # ggml order (ne)
    assert gguf_header.text_embedding_length(info) == 64
    assert gguf_header.mmproj_output_dim(gguf_header.read_gguf(projector(tmp_path / "p.gguf", 48))) == 48
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"definitely not gguf")
    with pytest.raises(ModelError, match="not a readable GGUF"):
        gguf_header.read_gguf(junk)


def test_mismatched_projector_is_refused_before_loading(text_model: Path, tmp_path: Path) -> None:
    gguf_header.check_mmproj_compatible(text_model, projector(tmp_path / "ok.gguf", 64))
    with pytest.raises(ModelError, match="outputs 640-wide embeddings but the model expects 64"):
        gguf_header.check_mmproj_compatible(text_model, projector(tmp_path / "bad.gguf", 640))
    with pytest.raises(ModelError, match="not a vision projector"):
        gguf_header.check_mmproj_compatible(text_model, text_model)


def test_list_shows_catalog_models_not_installed(paths: Paths) -> None:
    rows = {r.name: r for r in mm.list_models(paths)}
    assert not rows["smolvlm-256m"].installed
    assert rows["smolvlm-256m"].size == 280 << 20                 # the catalog's estimate
    assert rows["smolvlm-256m"].missing == ["SmolVLM-256M-Instruct-Q8_0.gguf",
                                            "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf"]
    summary = mm.installed_summary(paths)
    assert "smolvlm-256m" in summary["available"]


def test_missing_model_message_says_what_to_download_and_where(paths: Paths) -> None:
    with pytest.raises(ModelMissingError) as err:
        mm.resolve_model("gemma-3-4b", paths)
    message = str(err.value)
    assert "https://huggingface.co/ggml-org/gemma-3-4b-it-GGUF/resolve/main/gemma-3-4b-it-Q4_K_M.gguf" in message
    assert str(paths.models_dir / "gemma-3-4b") in message
    with pytest.raises(ModelMissingError, match="no chat model chosen"):
        mm.resolve_model("", paths)
    with pytest.raises(ModelMissingError, match="unknown model 'nope'"):
        mm.resolve_model("nope", paths)


def test_download_offline_is_a_clear_missing_model_error(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hc
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelMissingError, match="companion models download smolvlm-256m"):
        mm.download(paths, "smolvlm-256m")
    # The image model downloads like a chat model; its hint never points at the random-weight exporter.
    with pytest.raises(ModelMissingError, match="companion models download clip-vit-b-32"):
        mm.download(paths, "clip-vit-b-32")
    with pytest.raises(NotFoundError):
        mm.download(paths, "nope")


def test_download_checks_free_disk_space_before_any_connection(paths: Paths,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("tried to connect")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    huge = catalog_module.CatalogEntry(name="huge", kind="vlm", title="huge", source="huggingface", repo="x/y",
                           files=(catalog_module.ModelFile("model", "m.gguf"),), approx_mb=1 << 40, license="mit",
                           ram_mb=1)
    manager = mm.ModelManager(paths, catalog={"huge": huge})
    with pytest.raises(CompanionError, match="not enough disk space"):
        manager.download("huge")


def test_files_placed_by_hand_are_installed_and_verified_on_first_use(paths: Paths, text_model: Path) -> None:
    target = paths.models_dir / "smolvlm-256m"
    target.mkdir(parents=True)
    for name in ("SmolVLM-256M-Instruct-Q8_0.gguf", "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf"):
        (target / name).write_bytes(text_model.read_bytes())
    row = next(r for r in mm.list_models(paths) if r.name == "smolvlm-256m")
    assert row.installed and row.size == 2 * text_model.stat().st_size
    assert mm.resolve_model("smolvlm-256m", paths) == (target / "SmolVLM-256M-Instruct-Q8_0.gguf",
                                                       target / "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf")
    first = mm.verify(paths, "smolvlm-256m")
    assert all(ok for _, ok, _ in first) and "recorded" in first[0][2]
    registry = json.loads((paths.models_dir / "registry.json").read_text())
    assert registry["checksums"]["smolvlm-256m/SmolVLM-256M-Instruct-Q8_0.gguf"]["how"] == "trust on first use"
    assert all(msg == "sha256 ok" for _, _, msg in mm.verify(paths, "smolvlm-256m"))
    with open(target / "SmolVLM-256M-Instruct-Q8_0.gguf", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        mm.verify(paths, "smolvlm-256m")
    mm.remove(paths, "smolvlm-256m")
    assert not target.exists()


def test_add_local_model_with_projector_then_remove(paths: Paths, text_model: Path, tmp_path: Path) -> None:
    proj = projector(tmp_path / "mmproj.gguf", 64)
    row = mm.add_local(paths, "mine", [proj, text_model])         # order does not matter
    assert row.installed and row.source == "local" and row.kind == "vlm" and row.license == "mit"
    assert mm.resolve_model("mine", paths) == (text_model.resolve(), proj.resolve())
    assert all(ok for _, ok, _ in mm.verify(paths, "mine"))
    with pytest.raises(ModelError, match="does not belong"):
        mm.add_local(paths, "bad", [text_model, projector(tmp_path / "wide.gguf", 640)])
    with pytest.raises(CompanionError, match="catalog model"):
        mm.add_local(paths, "gemma-3-4b", [text_model])
    mm.remove(paths, "mine")
    assert text_model.exists()                                    # the user's files stay
    with pytest.raises(ModelMissingError):
        mm.resolve_model("mine", paths)
    with pytest.raises(NotFoundError):
        mm.remove(paths, "mine")


def test_damaged_registry_is_reported(paths: Paths) -> None:
    (paths.models_dir / "registry.json").write_text("{broken")
    with pytest.raises(CompanionError, match="registry .* is damaged"):
        mm.list_models(paths)


@pytest.fixture
def local_hub(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A Hugging Face 'resolve' endpoint on 127.0.0.1 serving ``files`` (name -> bytes); no internet."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import huggingface_hub.constants as hc

    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def _head(self) -> bytes | None:
            body = files.get(self.path.rsplit("/", 1)[-1])
            if body is None:
                self.send_response(404)
                self.end_headers()
                return None
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
            self.send_header("X-Repo-Commit", "0" * 40)
            self.end_headers()
            return body

        def do_HEAD(self) -> None:
            self._head()

        def do_GET(self) -> None:
            body = self._head()
            if body is not None:
                self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hc, "ENDPOINT", endpoint)
    monkeypatch.setattr(hc, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    yield files
    server.shutdown()
    server.server_close()


def _hub_entry(sha256: str) -> catalog_module.CatalogEntry:
    return catalog_module.CatalogEntry(name="tiny", kind="llm", title="tiny", source="huggingface", repo="me/tiny",
                                       files=(catalog_module.ModelFile("model", "tiny.gguf", 0, sha256),),
                                       approx_mb=1, license="mit", ram_mb=1)


def test_a_corrupt_download_is_refused_by_checksum_and_not_kept(paths: Paths, local_hub: dict[str, bytes]) -> None:
    good = b"the real model bytes" * 100
    local_hub["tiny.gguf"] = good[:-1] + b"!"                     # one byte differs on the wire
    manager = mm.ModelManager(paths, catalog={"tiny": _hub_entry(hashlib.sha256(good).hexdigest())})
    with pytest.raises(ModelError, match=r"tiny\.gguf failed its checksum .*download it again"):
        manager.download("tiny")
    final = manager.model_dir(manager.catalog["tiny"]) / "tiny.gguf"
    assert not final.exists()                                     # nothing left that could be loaded later
    assert [m.installed for m in manager.list() if m.name == "tiny"] == [False]
    local_hub["tiny.gguf"] = good                                 # the same download, intact, is kept
    assert manager.download("tiny") == [final] and final.read_bytes() == good


def test_a_download_without_network_says_so_at_once_with_the_folder(paths: Paths,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hc

    def no_dns(*_a: object, **_k: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def hub(*_a: object, **_k: object) -> None:
        raise AssertionError("the hub client was called although the server cannot be reached")

    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub)
    with pytest.raises(DownloadUnreachableError) as err:
        mm.download(paths, "smolvlm-256m")
    error = err.value
    assert error.window_text() == "Can't reach the download server." and error.action == "retry_download"
    assert error.folder == str(paths.models_dir / "smolvlm-256m")
    assert error.files == ["SmolVLM-256M-Instruct-Q8_0.gguf", "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf"]
    assert "does not resolve" in error.detail
    assert "Run `companion models download smolvlm-256m` while online" in str(error)   # the CLI's words stay


def test_a_name_lookup_that_hangs_is_given_up_after_the_probe_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    release = threading.Event()
    waited: list[float] = []

    def hanging(*_a: object, **_k: object) -> None:
        release.wait()
        raise socket.gaierror(socket.EAI_AGAIN, "gave up")

    def simulated_wait(_done: threading.Event, seconds: float) -> bool:
        waited.append(seconds)        # simulated time: the whole budget passes, nobody sleeps
        return False

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    monkeypatch.setattr(mm, "_wait", simulated_wait)
    try:
        assert mm.reach("https://huggingface.co") == f"no answer from huggingface.co within {mm.PROBE_SECONDS:g} s"
    finally:
        release.set()
    assert waited == [mm.PROBE_SECONDS] and sum(waited) <= 5     # one try, no retries, within 5 s


def test_the_probe_tries_every_address_of_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first address that refuses (an IPv6 one on a machine without IPv6, say) is not "offline"."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()[1]        # a port nobody listens on once this socket closes
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        stream = (socket.AF_INET, socket.SOCK_STREAM, 6, "")
        monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: [(*stream, ("127.0.0.1", refused)),
                                                                      (*stream, ("127.0.0.1", port))])
        assert mm.reach(f"https://hub.example:{port}") == ""
        monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: [(*stream, ("127.0.0.1", refused))])
        assert mm.reach(f"https://hub.example:{port}").startswith("hub.example does not answer")
