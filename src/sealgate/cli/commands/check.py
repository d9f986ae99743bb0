"""``sealgate check FILE``: validate a config (and its OpenAPI spec) without starting anything."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sealgate.cli.commands.serve import summary
from sealgate.config.load import load_config

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``check`` verb."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check", help="validate sealgate.yaml without starting",
        description="Validate a config file and the OpenAPI spec it names. Exit 0 when valid, "
        "2 with file:line errors otherwise.",
    )
    parser.add_argument("file", nargs="?", default="sealgate.yaml", help="config file (default sealgate.yaml)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load and validate; print a summary when valid."""
    config = load_config(Path(args.file))
    print(f"{args.file}: OK")
    print(summary(config))
    return 0
