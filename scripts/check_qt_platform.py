"""Before ``make run`` opens the window on Linux: are the system libraries Qt's xcb plugin needs installed?

PySide6's wheels bring Qt but not the X11 libraries its xcb platform plugin links against; since
Qt 6.5 that includes ``libxcb-cursor0``, which a fresh desktop often lacks. Without them Qt only
says "could not load the Qt platform plugin "xcb"". This asks the dynamic loader (``ldd`` on the
plugin: every library it needs, its own dependencies included) which ones are missing and names the
Debian/Ubuntu and Fedora packages that hold them. It exits 1 when one is missing, 0 otherwise, and
checks nothing where the xcb plugin is not the one Qt will load (not Linux; ``QT_QPA_PLATFORM``
naming another platform, e.g. offscreen or wayland; a Wayland session with no platform named).

    python scripts/check_qt_platform.py [--plugin PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# library soname -> (Debian/Ubuntu package, Fedora package): what Qt 6's xcb plugin links against.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)


def xcb_wanted(platform: str, environ: Mapping[str, str]) -> bool:
    """Whether Qt will try the xcb plugin: on Linux, when it is named or nothing else is."""
    if not platform.startswith("linux"):
        return False
    named = environ.get("QT_QPA_PLATFORM", "").strip()
    if named:
        # "xcb", "xcb:option", or a fallback list "wayland;xcb": the first one is tried first.
        return named.split(";")[0].split(":")[0].strip() == "xcb"
    # Qt 6 picks its Wayland plugin in a Wayland session.
    return not (environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland")


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, found without importing Qt; None when PySide6 is not installed."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reports as not found, each once, in its order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def advice(missing: list[str]) -> str:
    """What to tell the user: the missing libraries and the packages to install."""
    known = [name for name in missing if name in PACKAGES]
    other = [name for name in missing if name not in PACKAGES]
    lines = ["The window cannot start: Qt's X11 (xcb) platform plugin needs libraries this system lacks:",
             "  " + " ".join(missing)]
    if known:
        debian = " ".join(dict.fromkeys(PACKAGES[name][0] for name in known))
        fedora = " ".join(dict.fromkeys(PACKAGES[name][1] for name in known))
        lines += ["Install them with:",
                  f"  Debian/Ubuntu:  sudo apt install {debian}",
                  f"  Fedora:         sudo dnf install {fedora}"]
    if other:
        qt_own = [name for name in other if name.startswith("libQt6")]
        if qt_own:
            lines.append("Qt's own libraries are missing too: reinstall PySide6 (pip install --force-reinstall "
                         "PySide6-Essentials).")
        if len(qt_own) < len(other):
            lines.append("Install the package that provides the others with your system's package manager.")
    lines.append("(To run without a display, set QT_QPA_PLATFORM=offscreen.)")
    return "\n".join(lines)


def check(plugin: Path) -> list[str]:
    """The libraries the plugin needs that the loader cannot find ([] when ldd is not available)."""
    ldd = shutil.which("ldd")
    if ldd is None:     # not glibc: let Qt report for itself
        return []
    done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=60)
    return missing_libraries(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", type=Path, help="the xcb plugin to check (default: PySide6's)")
    args = parser.parse_args(argv)
    if not xcb_wanted(sys.platform, os.environ):
        return 0
    plugin = args.plugin or xcb_plugin()
    if plugin is None:
        return 0        # no PySide6 here: `companion gui` says so itself
    missing = check(plugin)
    if missing:
        print(advice(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
