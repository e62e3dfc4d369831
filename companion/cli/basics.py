"""``companion init`` and ``companion doctor``."""

from __future__ import annotations

import argparse
from typing import Any

from companion.app import diagnostics
from companion.app import settings as app_settings
from companion.cli._services import services_for
from companion.cli.output import emit_json


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    init = commands.add_parser("init", parents=[parent], help="create the profile: folders, settings, memory store")
    init.set_defaults(func=run_init)
    doctor = commands.add_parser("doctor", parents=[parent],
                                 help="versions, the memory store's integrity, hardware, installed models and "
                                      "disk space")
    doctor.set_defaults(func=run_doctor)


def run_init(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        app_settings.save(services)
        result = {"data": str(services.paths.data_dir), "database": str(services.paths.db_path),
                  "settings": str(services.paths.settings_path), "models": str(services.paths.models_dir)}
    if args.json:
        emit_json(result)
    else:
        print(f"Companion is ready. Memory store: {result['database']}")
        print(f"Settings: {result['settings']}  Models: {result['models']}")
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    with services_for(args, read_damaged=True) as services:     # a damaged store is what doctor is for
        report = diagnostics.doctor(services)
    integrity = report["integrity"]
    status = 0 if isinstance(integrity, dict) and integrity.get("ok") else 1
    if args.json:
        emit_json(report)
        return status
    _print_tree(report)
    return status


def _print_tree(data: dict[str, Any], indent: str = "") -> None:
    """Nested sections as indented ``key: value`` lines (lists on one line)."""
    for key, value in data.items():
        if isinstance(value, dict) and value:
            print(f"{indent}{key}:")
            _print_tree(value, indent + "  ")
        elif isinstance(value, (list, tuple)):
            print(f"{indent}{key}: {', '.join(str(v) for v in value) or '-'}")
        else:
            print(f"{indent}{key}: {'-' if value in ('', None, {}) else value}")
