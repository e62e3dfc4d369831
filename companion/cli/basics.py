"""``companion init`` and ``companion doctor``."""

from __future__ import annotations

import argparse

from companion.cli._services import services_for
from companion.cli.output import emit_json


def register(commands: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    init = commands.add_parser("init", parents=[parent], help="create the profile: folders, settings, memory store")
    init.set_defaults(func=run_init)
    doctor = commands.add_parser("doctor", parents=[parent],
                                 help="versions, hardware, installed models and disk space")
    doctor.set_defaults(func=run_doctor)


def run_init(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        services.save_settings()
        result = {"data": str(services.paths.data_dir), "database": str(services.paths.db_path),
                  "settings": str(services.paths.settings_path), "models": str(services.paths.models_dir)}
    if args.json:
        emit_json(result)
    else:
        print(f"Companion is ready. Memory store: {result['database']}")
        print(f"Settings: {result['settings']}  Models: {result['models']}")
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    with services_for(args) as services:
        report = services.doctor()
    if args.json:
        emit_json(report)
        return 0
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for sub, item in value.items():
                print(f"  {sub}: {item}")
        else:
            print(f"{key}: {value}")
    return 0
