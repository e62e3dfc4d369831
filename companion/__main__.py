"""Entry point: ``companion gui`` opens the window, ``companion --self-test`` checks the
installation; everything else is the command line (``companion mcp`` with only its own command group).

This dispatch lives above both front ends so that neither imports the other.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--self-test"]:
        from companion.selftest import run_self_test

        return run_self_test(args[1:])
    if args[:1] == ["gui"]:
        from companion.ui.app import main as gui_main

        return gui_main(args[1:])
    from companion.cli import main as cli_main

    if args[:1] == ["mcp"]:
        # An AI app launches `companion mcp` and waits for it: only that command group is loaded
        # (the others' imports cost ~10% of its one-second start; benchmarks/mcp_startup.py).
        return cli_main(args, modules=("companion.cli.mcp",))
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
