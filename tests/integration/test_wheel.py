"""A plain ``pip install`` of the built wheel works, with the source tree nowhere on the path.

Once the wheel held no language tables, prompts, icons or model catalog: editable installs and the
frozen bundle found them beside the checkout, an installed wheel did not. Here the wheel is built
from a copy of what the build reads, installed into a new virtual environment (``--without-pip``,
from the same base interpreter), and run from an empty folder. The third-party dependencies come
from this environment's site-packages through one ``.pth`` line: a path added that way is not a
site directory, so its own ``.pth`` files (the editable install's finder among them) never run,
and the wheel's ``companion`` comes first on the path. Offline: nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = "Scripts" if os.name == "nt" else "bin"


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the built wheel; its folder."""
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy: a build in the checkout leaves build/ and *.egg-info behind, and a file the
    # package data does not declare cannot reach the wheel from a copy of the package either.
    source = work / "source"
    shutil.copytree(REPO / "companion", source / "companion", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", work / "dist", source], cwd=work)
    (wheel,) = (work / "dist").glob("companion-*.whl")

    env_dir = work / "venv"
    base = getattr(sys, "_base_executable", sys.executable)    # the interpreter this venv was made from
    run([base, "-m", "venv", "--without-pip", env_dir], cwd=work)
    python = env_dir / SCRIPTS / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=work).strip())
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_companion_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        cwd=work)
    return env_dir


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working folder and an environment that names neither the checkout nor a profile."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "COMPANION_", "VIRTUAL_ENV"))}
    env["COMPANION_HOME"] = str(tmp_path / "profile")
    return cwd, env


def test_the_installed_wheel_imports_from_itself_and_finds_its_files(
        venv: Path, outside: tuple[Path, dict[str, str]]) -> None:
    cwd, env = outside
    probe = (
        "import json, sys, companion\n"
        "from companion.core import language, prompts\n"
        "from companion.backends import catalog\n"
        "from companion.paths import resources_dir\n"
        "print(json.dumps({'file': companion.__file__, 'path': sys.path, 'languages': list(language.codes()),\n"
        "  'german': language.Language('de').name,\n"
        "  'prompts': sorted(p.stem for p in (resources_dir() / 'prompts').glob('*.txt')),\n"
        "  'answer': prompts.render_prompt('answer', plan='PLAN-X'),\n"
        "  'catalog': sorted(catalog.load_catalog()),\n"
        "  'icon': (resources_dir() / 'icons' / 'companion.svg').is_file()}))\n"
    )
    found = json.loads(run([venv / SCRIPTS / "python", "-c", probe], cwd=cwd, env=env))
    assert Path(found["file"]).resolve().is_relative_to(venv.resolve()), found["file"]
    assert not any(Path(p).resolve() == REPO.resolve() for p in found["path"] if p), "the checkout is on the path"
    assert {"en", "de", "fr", "es"} <= set(found["languages"]) and found["german"] == "Deutsch"
    assert {"answer", "caption", "extract", "plan", "summarize"} <= set(found["prompts"])
    assert "Question plan: PLAN-X" in found["answer"]
    assert "smolvlm-256m" in found["catalog"] and found["icon"]


def test_the_installed_command_runs_doctor_and_answers_from_records(
        venv: Path, outside: tuple[Path, dict[str, str]]) -> None:
    cwd, env = outside
    companion = venv / SCRIPTS / "companion"
    report = json.loads(run([companion, "doctor", "--json"], cwd=cwd, env=env))
    assert report["integrity"]["ok"] and report["paths"]["data"].startswith(env["COMPANION_HOME"])
    assert report["sqlite_vec"].startswith("v")

    run([companion, "concepts", "add", "--name", "Rex", "--category", "pet", "--info", "our golden retriever"],
        cwd=cwd, env=env)
    done = subprocess.run([str(companion), "ask", "Who is Rex?"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "golden retriever" in done.stdout
    # The hint names a model from the catalog (the one that suits a machine without a GPU).
    assert "companion models download smolvlm-256m" in done.stderr
