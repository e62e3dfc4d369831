"""Opening :class:`~companion.app.services.Services` for a command, closed when it ends."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from companion.app.services import Services


@contextmanager
def services_for(args: argparse.Namespace) -> Iterator[Services]:
    services = Services.open(args.home)
    try:
        yield services
    finally:
        services.close()
