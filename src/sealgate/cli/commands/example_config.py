"""``sealgate example-config``: print a config documenting every option with its default."""

from __future__ import annotations

import argparse
from typing import Any

from sealgate.config.example import render_example

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``example-config`` verb."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "example-config", help="print an example sealgate.yaml with every option",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the example."""
    print(render_example(), end="")
    return 0
