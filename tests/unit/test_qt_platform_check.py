"""scripts/check_qt_platform.py: `make run` names the package to install instead of Qt's "could not load xcb"."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_qt_platform.py"

# `ldd libqxcb.so` on a fresh Ubuntu 24.04 desktop with PySide6 6.7 (abridged): the one library
# Qt >= 6.5 added, which the desktop does not install.
LDD_FRESH_DESKTOP = """\
\tlinux-vdso.so.1 (0x00007ffd5a3f1000)
\tlibQt6XcbQpa.so.6 => /home/u/.venv/lib/python3.12/site-packages/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x0000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f1c2c6c5000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x00007f1c2c6bd000)
\tlibxcb-cursor.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c2c400000)
"""


@pytest.fixture()
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_qt_platform", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_missing_xcb_cursor_names_the_package_for_debian_and_fedora(checker: ModuleType) -> None:
    missing = checker.missing_libraries(LDD_FRESH_DESKTOP)
    assert missing == ["libxcb-cursor.so.0"]
    advice = checker.advice(missing)
    assert "sudo apt install libxcb-cursor0" in advice
    assert "sudo dnf install xcb-util-cursor" in advice


def test_only_the_xcb_plugin_is_checked(checker: ModuleType) -> None:
    assert checker.xcb_wanted("linux", {})
    assert checker.xcb_wanted("linux", {"QT_QPA_PLATFORM": "xcb"})
    assert checker.xcb_wanted("linux", {"QT_QPA_PLATFORM": "xcb;wayland", "WAYLAND_DISPLAY": "wayland-0"})
    assert not checker.xcb_wanted("linux", {"QT_QPA_PLATFORM": "offscreen"})
    assert not checker.xcb_wanted("linux", {"QT_QPA_PLATFORM": "wayland;xcb"})
    assert not checker.xcb_wanted("linux", {"XDG_SESSION_TYPE": "wayland"})
    assert not checker.xcb_wanted("darwin", {})
    assert not checker.xcb_wanted("win32", {"QT_QPA_PLATFORM": "xcb"})


def run_script(plugin: Path, platform: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env["QT_QPA_PLATFORM"] = platform
    return subprocess.run([sys.executable, str(SCRIPT), "--plugin", str(plugin)], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.skipif(sys.platform != "linux" or shutil.which("ldd") is None, reason="asks glibc's loader")
def test_a_plugin_whose_libraries_are_missing_stops_make_run_with_the_reason(tmp_path: Path) -> None:
    # PySide6's real plugin, copied away from Qt's own libraries (its RUNPATH is $ORIGIN/../../lib):
    # the loader cannot find them, as after a broken install.
    # Found through the distribution's metadata: the headless run makes PySide6 unimportable.
    plugin = Path(str(importlib.metadata.distribution("PySide6-Essentials").locate_file(
        "PySide6/Qt/plugins/platforms/libqxcb.so")))
    assert plugin.is_file(), plugin
    copy = tmp_path / "platforms" / "libqxcb.so"
    copy.parent.mkdir()
    shutil.copy2(plugin, copy)

    done = run_script(copy, "xcb")
    assert done.returncode == 1
    assert "libQt6XcbQpa.so.6" in done.stderr and "reinstall PySide6" in done.stderr
    for platform in ("offscreen", "wayland"):     # another plugin is loaded: nothing to say
        done = run_script(copy, platform)
        assert done.returncode == 0 and done.stderr == ""
