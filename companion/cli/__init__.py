"""The ``companion`` command line: a thin layer over the use cases in :mod:`companion.app`.

Each command group lives in its own module with ``register(subparsers)``; the
modules are listed once in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from companion import __version__
from companion.app.settings import SettingsError, SettingsSaveError
from companion.cli.output import TerminalSafe, terminal_safe
from companion.core.errors import CompanionError, InvalidInputError, NotFoundError

COMMAND_MODULES = (
    "companion.cli.basics",     # init, doctor
    "companion.cli.concepts",
    "companion.cli.memories",
    "companion.cli.reminders",
    "companion.cli.chat",
    "companion.cli.library",    # index, search, faces
    "companion.cli.ask",
    "companion.cli.models",
    "companion.cli.backup",     # backup, restore, export
    "companion.cli.people",     # people write-xmp
    "companion.cli.mcp",        # mcp (the server), mcp activity
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


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parent = common_options()
    parser = OneLineParser(prog="companion", parents=[parent],
                           description="Companion remembers the people, pets and things in your photos and "
                                       "conversations, on your own machine.")
    parser.add_argument("--version", action="version", version=f"companion {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in modules:
        importlib.import_module(name).register(commands, parent)
    return parser


# Exit statuses: 2 when the user's input is wrong (as argparse does for a wrong option), 1 when
# something else failed (a damaged or full store, a missing model, an unreadable settings file),
# 130 when the user pressed Ctrl-C (the shell's convention: 128 + SIGINT).
BAD_INPUT, FAILED, CANCELLED = 2, 1, 130


def fail(message: object, status: int) -> int:
    """One line on stderr, safe for a terminal, whatever the message holds."""
    text = " ".join(str(message).split())
    print(f"companion: error: {terminal_safe(text)}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None, *, modules: Sequence[str] = COMMAND_MODULES) -> int:
    """Run a command; ``modules`` narrows the parser to the command groups a caller knows it needs."""
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None) or not hasattr(args, "func"):
        parser.print_help()
        return 0 if not getattr(args, "command", None) else 2
    args.home = getattr(args, "home", None)
    args.json = getattr(args, "json", False)
    bad = next((v for v in vars(args).values() if isinstance(v, (str, Path)) and not _is_text(str(v))), None)
    if bad is not None:   # bytes that are not UTF-8 arrive as lone surrogates, which nothing can store
        return fail(f"an argument is not valid UTF-8 text: {ascii(str(bad))}", BAD_INPUT)
    stdout = sys.stdout
    sys.stdout = TerminalSafe(stdout)
    try:
        return int(args.func(args) or 0)
    except SettingsSaveError as exc:     # the disk refused: not the user's input
        return fail(exc, FAILED)
    except (InvalidInputError, NotFoundError, SettingsError) as exc:   # the user's input or settings file
        return fail(exc, BAD_INPUT)
    except CompanionError as exc:
        return fail(exc, FAILED)
    except KeyboardInterrupt:
        print("companion: cancelled", file=sys.stderr)
        return CANCELLED
    except RecursionError:
        return fail("the input is nested too deeply to read", BAD_INPUT)
    except Exception as exc:   # a bug: one line, the traceback only on request
        if os.environ.get("COMPANION_DEBUG"):
            raise
        return fail(f"unexpected {type(exc).__name__}: {exc} (a bug in Companion; run again with "
                    "COMPANION_DEBUG=1 for the details and please report it)", FAILED)
    finally:
        sys.stdout = stdout


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
