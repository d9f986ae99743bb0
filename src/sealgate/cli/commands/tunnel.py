"""``sealgate tunnel``: manage the tunnel's keys (``rotate-keys``, ``show-keys``) and re-pin the app (``sign-app``)."""

from __future__ import annotations

import argparse
import secrets
import time
from pathlib import Path
from typing import Any

from sealgate.cli.commands.common import add_config_flags, config_from_args
from sealgate.secrets.resolve import SecretRef
from sealgate.tunnel.gateway import ensure_key_set

__all__ = ["register", "run_rotate", "run_show", "run_sign_app"]


def register(sub: Any) -> None:
    """Add the ``tunnel`` verb and its sub-verbs."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "tunnel", help="manage the encrypted tunnel's keys and re-pin the protected app")
    verbs = parser.add_subparsers(dest="tunnel_command", metavar="SUBCOMMAND", required=True)
    rotate = verbs.add_parser(
        "rotate-keys", help="add a new current key; older keys keep decrypting for the overlap",
        description="Rotate the OHTTP key set: a new key becomes current; previous keys keep decrypting for "
        "max(tunnel.rotation_overlap_seconds, tunnel.key_cache_seconds). Running gateways pick the new set up "
        "within tunnel.key_reload_seconds.",
    )
    add_config_flags(rotate)
    rotate.set_defaults(run=run_rotate)
    show = verbs.add_parser("show-keys", help="list the key ids, their ages and expiry (never the keys)")
    add_config_flags(show)
    show.set_defaults(run=run_show)
    sign = verbs.add_parser(
        "sign-app", help="after a deploy: running gateways re-pin the app's scripts and sign a new manifest",
        description="Accept the app's current scripts without a restart: every running gateway worker notices the "
        "request within tunnel.key_reload_seconds (at its next manifest request), fetches each page of "
        "tunnel.bootloader.html_paths and its scripts through the pipeline again, pins their SHA-384 and signs "
        "a new manifest (same signing key, newer issuedAt). Run it after the new version is deployed upstream.",
    )
    add_config_flags(sign)
    sign.set_defaults(run=run_sign_app)


def run_rotate(args: argparse.Namespace) -> int:
    """Rotate and save the key set (only store: references are writable by sealgate)."""
    config = config_from_args(args, require_upstream=False)
    store = Path(config.secrets.store_path)
    current = ensure_key_set(config.tunnel, store)
    overlap = max(config.tunnel.rotation_overlap_seconds, config.tunnel.key_cache_seconds)
    rotated = current.rotate(overlap_seconds=overlap)
    SecretRef(config.tunnel.keys, store).write(rotated.to_json())
    print(f"rotated: key {rotated.current.key_id} is current; "
          f"previous keys decrypt for another {overlap} s")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the key ids and their validity."""
    config = config_from_args(args, require_upstream=False)
    key_set = ensure_key_set(config.tunnel, Path(config.secrets.store_path))
    for key in key_set.keys:
        until = key.not_after.isoformat() if key.not_after else "(current)"
        print(f"key id {key.key_id:3d}  created {key.created_at.isoformat()}  decrypts until {until}")
    return 0


def run_sign_app(args: argparse.Namespace) -> int:
    """Change the re-pin token that running bootloaders watch (only store: references are writable)."""
    config = config_from_args(args, require_upstream=False)
    bootloader = config.tunnel.bootloader
    if not bootloader.enabled:
        from sealgate.errors import ConfigError

        raise ConfigError("tunnel.bootloader.enabled is false: there is no app to sign. Fix: enable the bootloader.")
    ref = SecretRef(bootloader.repin_token, Path(config.secrets.store_path))
    # Any new value triggers the re-pin; the time makes it readable in the store, the random part unique.
    ref.write(f"{int(time.time())}-{secrets.token_hex(8)}")
    print(f"re-pin requested: running gateways re-pin {', '.join(bootloader.html_paths)} and sign a new manifest "
          f"within {config.tunnel.key_reload_seconds:g} s (at their next manifest request)")
    return 0
