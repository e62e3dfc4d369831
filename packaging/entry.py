"""Frozen-app entry point: the same dispatch as ``python -m companion``.

Started with no arguments (a double-click on the app, the Start-menu shortcut,
the macOS .app) it opens the window; with arguments it is the command line.
"""

from __future__ import annotations

import multiprocessing
import sys

from companion.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not re-run the app
    sys.exit(main(sys.argv[1:] or ["gui"]))
