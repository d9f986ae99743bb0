"""Concealment policy: browsers must use the encrypted tunnel for the API.

With ``tunnel.require_for_browsers: true``, a plaintext request to one of
``tunnel.api_prefixes`` that comes from a browser is refused with a 403 problem telling the
client to use the tunnel. "From a browser" means it carries the headers browsers add to every
``fetch``/XHR and that scripts cannot remove: ``Sec-Fetch-Mode``/``Sec-Fetch-Site`` or
``Origin``. Server-to-server clients (curl, SDKs, other services) send neither and keep
working; requests that arrived through the tunnel are never refused here.

This is a policy against accidental plaintext (a page that forgot the client), not an
authentication mechanism: a non-browser client can always omit the headers.
"""

from __future__ import annotations

from sealgate.pipeline.exchange import Exchange
from sealgate.pipeline.verdict import Verdict
from sealgate.tunnel.config import TunnelConfig

__all__ = ["ConcealmentProtection"]


class ConcealmentProtection:
    """Refuses plaintext browser calls to the API when the tunnel is required."""

    name = "concealment"

    def __init__(self, config: TunnelConfig) -> None:
        self.prefixes = config.api_prefixes
        self.endpoint = config.endpoint

    async def on_request_headers(self, exchange: Exchange) -> Verdict | None:
        """Block a plaintext browser request to an API path."""
        if exchange.tunneled or not exchange.path.startswith(self.prefixes):
            return None
        if exchange.header("sec-fetch-mode") is None and exchange.header("sec-fetch-site") is None \
                and exchange.header("origin") is None:
            return None
        return Verdict(
            403,
            f"this API is only available to browsers through the encrypted tunnel ({self.endpoint})",
            self.name,
            rule_id="tunnel-required",
        )
