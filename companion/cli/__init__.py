"""The ``companion`` command line: a thin layer over the use cases in :mod:`companion.app`.

Each command group lives in its own module with ``register(subparsers)``; the
modules are listed once in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from companion import __version__
from companion.app.settings import SettingsError
from companion.core.errors import CompanionError

COMMAND_MODULES = (
    "companion.cli.basics",     # init, doctor
    "companion.cli.concepts",
    "companion.cli.memories",
    "companion.cli.chat",
    "companion.cli.library",    # index, search, faces
    "companion.cli.ask",
    "companion.cli.models",
)


class OneLineParser(argparse.ArgumentParser):
    """Errors in one line, not a usage dump: scripts and people both read them."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def common_options() -> argparse.ArgumentParser:
    """--home and --json, accepted by every command."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS,
                        help="use DIR for all data, settings and caches (overrides COMPANION_HOME)")
    parent.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print machine-readable JSON")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parent = common_options()
    parser = OneLineParser(prog="companion", parents=[parent],
                           description="Companion remembers the people, pets and things in your photos and "
                                       "conversations, on your own machine.")
    parser.add_argument("--version", action="version", version=f"companion {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None) or not hasattr(args, "func"):
        parser.print_help()
        return 0 if not getattr(args, "command", None) else 2
    args.home = getattr(args, "home", None)
    args.json = getattr(args, "json", False)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:      # settings.toml holds a value that is not allowed: a usage error
        print(f"companion: error: {exc}", file=sys.stderr)
        return 2
    except CompanionError as exc:
        print(f"companion: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("companion: cancelled", file=sys.stderr)
        return 130
