"""``sealgate``: serve, check, demo, example-config (and more verbs as features land).

Every failure the user can fix is printed as one clear message and exit status 2; tracebacks
are only for bugs (and then the message says so).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from sealgate import __version__
from sealgate.cli.commands import check, demo, example_config, serve, tunnel
from sealgate.errors import SealgateError

__all__ = ["main"]

COMMANDS: tuple[ModuleType, ...] = (serve, check, demo, tunnel, example_config)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="sealgate",
        description="sealgate: an API security gateway in front of any HTTP/JSON API.",
        epilog="Quick start: sealgate serve --upstream http://127.0.0.1:9001 --spec openapi.yaml. "
        "Docs: README.md and sealgate.example.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"sealgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failure, 2 usage or config error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.run(args)
        return result
    except SealgateError as exc:
        print(f"sealgate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
