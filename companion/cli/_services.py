"""Opening :class:`~companion.app.services.Services` for a command, closed when it ends."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from companion.app.services import Services


@contextmanager
def services_for(args: argparse.Namespace, *, read_damaged: bool = False) -> Iterator[Services]:
    services = Services.open(args.home, read_damaged=read_damaged)
    try:
        yield services
        if not read_damaged:
            # Before the command prints: what it read must not be shown as the whole truth when the
            # file is damaged (the check runs alongside the command, so a long one waits for nothing).
            services.verify_store()
    finally:
        services.close()
