"""``sealgate serve``: run the gateway (quick mode with flags, or ``--config sealgate.yaml``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sealgate.cli.commands.common import add_config_flags, config_from_args
from sealgate.config.model import SealgateConfig
from sealgate.openapi.document import load_document

__all__ = ["register", "run", "summary"]


def register(sub: Any) -> None:
    """Add the ``serve`` verb."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve", help="run the gateway in front of an API",
        description="Run sealgate as a reverse proxy. Quick mode: sealgate serve --upstream URL "
        "[--spec openapi.yaml] [--port 8080]. Full mode: sealgate serve --config sealgate.yaml.",
    )
    add_config_flags(parser)
    parser.set_defaults(run=run)


def summary(config: SealgateConfig) -> str:
    """A few lines saying what the gateway will do, printed at start and by ``check``."""
    lines = [f"  upstream:  {', '.join(config.upstream.urls) or '(none)'}"]
    if config.routing.spec is not None:
        document = load_document(config.routing.spec)
        lines.append(
            f"  routing:   {len(document.routes)} operations from {config.routing.spec}; "
            f"unknown routes: {config.routing.unknown_routes}"
        )
    else:
        lines.append("  routing:   no spec; every request is one catch-all route")
    audit = config.audit
    where = getattr(audit, "path", None) or getattr(audit, "dsn", None) or ""
    lines.append(f"  audit:     {audit.backend}{' ' + str(where) if where else ''}")
    if config.admin.enabled:
        lines.append(f"  admin:     http://{config.admin.host}:{config.admin.port} (/healthz /readyz /metrics)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Validate, print the summary, then serve until interrupted."""
    config = config_from_args(args)
    from sealgate.server.run import serve

    if config.tunnel.enabled:
        # Generate the key set once here, before workers start, so they all share it.
        from pathlib import Path

        from sealgate.tunnel.gateway import ensure_key_set

        key_set = ensure_key_set(config.tunnel, Path(config.secrets.store_path))
        if config.tunnel.bootloader.enabled:
            from sealgate.tunnel.manifest import load_signing_key

            load_signing_key(config.tunnel.bootloader.signing_key, Path(config.secrets.store_path))
        print(f"  tunnel:    {config.tunnel.endpoint} (keys {config.tunnel.key_config_path}, "
              f"key ids {[k.key_id for k in key_set.active()]})")

    host = config.server.host
    print(f"sealgate: listening on http://{host}:{config.server.port} "
          f"({config.server.workers} worker{'s' if config.server.workers > 1 else ''})")
    print(summary(config), flush=True)
    serve(config, on_ready=lambda: print("sealgate: ready", file=sys.stderr, flush=True))
    return 0
