"""Build Companion for this platform: the PyInstaller one-folder app, an archive and an installer.

``make package`` runs this with the project's venv. Steps:

1. PyInstaller on ``packaging/companion.spec`` (niced: it takes minutes and
   should not starve other work) into ``dist/companion/`` (``build/`` for temp files);
2. the archive and installer of the platform, in ``dist/``:
   Linux ``companion-VERSION-linux-ARCH.tar.gz`` (+ ``.sha256``);
   macOS ``Companion-VERSION-macos-ARCH.dmg`` (hdiutil; signing in README.md);
   Windows ``companion-VERSION-windows-ARCH.zip`` and, when Inno Setup's
   ``iscc`` is on PATH, the installer from ``packaging/windows/companion.iss``;
3. the smoke test (``packaging/smoke_test.py``) on the built binary, unless ``--no-smoke``.

Exit status: non-zero when the build or the smoke test fails.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "companion.spec"
DIST = REPO / "dist"
WORK = REPO / "build" / "pyinstaller"


def version() -> str:
    sys.path.insert(0, str(REPO))
    from companion import __version__

    return __version__


def arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def run_pyinstaller(clean: bool) -> Path:
    """Build dist/companion (one folder); returns the folder."""
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    if hasattr(os, "nice"):
        command = ["nice", "-n", "10", *command]
    print("+", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True)
    print(f"PyInstaller finished in {time.perf_counter() - start:.0f}s", flush=True)
    return DIST / "companion"


def sha256_file(path: Path) -> Path:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    out = path.with_name(path.name + ".sha256")
    out.write_text(f"{digest.hexdigest()}  {path.name}\n", encoding="utf-8")
    return out


def package_linux(folder: Path, name: str) -> list[Path]:
    """A gzip tarball of the folder, with a .desktop file and icon, plus its sha256."""
    shutil.copy2(REPO / "packaging" / "linux" / "companion.desktop", folder / "companion.desktop")
    shutil.copy2(REPO / "companion" / "resources" / "icons" / "companion.svg", folder / "companion.svg")
    tarball = DIST / f"{name}.tar.gz"
    # Top-level folder inside the tarball carries the version, like most Linux app tarballs.
    with tarfile.open(tarball, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=name)
    return [tarball, sha256_file(tarball)]


def package_macos(name: str) -> list[Path]:
    """A compressed .dmg of Companion.app (codesign/notarize happen before this in CI; see README)."""
    app = DIST / "Companion.app"
    dmg = DIST / f"{name}.dmg"
    dmg.unlink(missing_ok=True)
    subprocess.run(["hdiutil", "create", "-volname", "Companion", "-srcfolder", str(app),
                    "-ov", "-format", "UDZO", str(dmg)], check=True)
    return [dmg, sha256_file(dmg)]


def package_windows(folder: Path, name: str, ver: str) -> list[Path]:
    """A zip of the folder, and the Inno Setup installer when ``iscc`` is installed."""
    archive = Path(shutil.make_archive(str(DIST / name), "zip", folder.parent, folder.name))
    made = [archive, sha256_file(archive)]
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if iscc:
        subprocess.run([iscc, f"/DAppVersion={ver}", f"/DSourceDir={folder}", f"/O{DIST}",
                        str(REPO / "packaging" / "windows" / "companion.iss")], check=True)
        made += sorted(DIST.glob(f"companion-{ver}-setup*.exe"))
    else:
        print("iscc (Inno Setup) not found: skipped the installer, the zip is built", flush=True)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache first")
    parser.add_argument("--no-smoke", action="store_true", help="do not run the smoke test")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO / "packaging"))
    import spec_support

    refusal = spec_support.unportable_llama()
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    for missing in spec_support.missing_app_files():
        print(f"warning: {missing} does not exist; the bundle will not have it", flush=True)
    ver = version()
    folder = run_pyinstaller(args.clean)
    if sys.platform.startswith("linux"):
        made = package_linux(folder, f"companion-{ver}-linux-{arch()}")
    elif sys.platform == "darwin":
        made = package_macos(f"Companion-{ver}-macos-{arch()}")
    elif sys.platform == "win32":
        made = package_windows(folder, f"companion-{ver}-windows-{arch()}", ver)
    else:
        made = []
    for path in made:
        print(f"built {path.relative_to(REPO)} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    if args.no_smoke:
        return 0
    return subprocess.run([sys.executable, str(REPO / "packaging" / "smoke_test.py"), str(folder)]).returncode


if __name__ == "__main__":
    sys.exit(main())
