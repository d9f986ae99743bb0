"""Helpers shared by the CLI verbs: building a config from ``--config`` and quick-mode flags."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sealgate.config.load import Loc, load_config, parse_config_text
from sealgate.config.model import SealgateConfig
from sealgate.errors import ConfigError

__all__ = ["add_config_flags", "config_from_args"]


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of quick mode (no file) that also override a ``--config`` file."""
    parser.add_argument("--config", "-c", metavar="FILE", help="sealgate.yaml to use")
    parser.add_argument(
        "--upstream", "-u", metavar="URL", action="append",
        help="URL of the API to protect (repeat for several); overrides upstream.urls",
    )
    parser.add_argument("--spec", metavar="FILE", help="OpenAPI 3.0/3.1 document of the API (YAML or JSON)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", "-p", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--workers", "-w", type=int, help="worker processes (default 1)")
    parser.add_argument("--admin-port", type=int, help="admin port for /healthz, /readyz, /metrics (default 9090)")
    parser.add_argument("--no-admin", action="store_true", help="do not serve the admin port")
    parser.add_argument("--audit", metavar="FILE", help="write audit events as JSON lines to FILE")
    parser.add_argument(
        "--tunnel", action="store_true",
        help="enable the encrypted tunnel (Oblivious HTTP): publish /.well-known/ohttp-gateway and accept "
        "message/ohttp-req; keys are generated in the embedded store on first start",
    )


def config_from_args(args: argparse.Namespace, require_upstream: bool = True) -> SealgateConfig:
    """The validated config: ``--config`` file (if any), then environment, then flags."""
    overrides: dict[Loc, Any] = {}
    if args.upstream:
        overrides[("upstream", "urls")] = list(args.upstream)
    if args.spec:
        overrides[("routing", "spec")] = str(Path(args.spec).resolve())
    for flag, loc in (
        ("host", ("server", "host")), ("port", ("server", "port")), ("workers", ("server", "workers")),
        ("admin_port", ("admin", "port")),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[loc] = value
    if getattr(args, "no_admin", False):
        overrides[("admin", "enabled")] = False
    if getattr(args, "tunnel", False):
        overrides[("tunnel", "enabled")] = True
    if getattr(args, "audit", None):
        overrides[("audit", "backend")] = "jsonl"
        overrides[("audit", "path")] = str(Path(args.audit).resolve())
    if args.config:
        path = Path(args.config)
        config = load_config(path)
        if overrides:
            text = path.read_text(encoding="utf-8")
            config = parse_config_text(text, str(path), base_dir=path.parent, overrides=overrides)
    else:
        config = parse_config_text("", "command line", env=os.environ, overrides=overrides)
    if require_upstream and not config.upstream.urls:
        raise ConfigError(
            "no upstream to protect. Fix: pass --upstream http://127.0.0.1:9001 or set upstream.urls "
            "in the file given with --config."
        )
    return config
