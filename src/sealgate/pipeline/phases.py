"""The phases a request goes through, in order. Each protection hooks the phases it needs."""

from __future__ import annotations

import enum

__all__ = ["HOOK_NAMES", "Phase"]


class Phase(enum.Enum):
    """A point in the life of an exchange where protections run."""

    REQUEST_HEADERS = "request_headers"
    """Method, path, query, headers, client address and the matched route are known.
    The body has not been read. Protections may set ``exchange.identity``, ``exchange.route``,
    add upstream headers (``exchange.upstream_headers``) and record findings."""

    REQUEST_BODY = "request_body"
    """The whole body has been read (``exchange.body``) within ``limits.max_body_bytes``;
    parsed forms (``exchange.json()``, ``form()``, ``xml()``, ``multipart()``) are computed
    lazily on first use and cached. Protections may replace ``exchange.body`` (sanitization)."""

    RESPONSE_HEADERS = "response_headers"
    """The upstream answered: ``exchange.response`` has status and headers, the body is not read.
    Protections may edit headers or replace the response with a verdict."""

    RESPONSE_BODY = "response_body"
    """The whole response body is in ``exchange.response.body`` (only when some protection
    defines this hook; otherwise the body streams through). Protections may rewrite it."""

    LOG = "log"
    """The response has been sent (or the client left). Always runs, also for blocked
    requests; read-only. Used for the audit log, metrics and alerts."""


HOOK_NAMES: dict[Phase, str] = {phase: f"on_{phase.value}" for phase in Phase}
"""The method name a protection defines to hook a phase, e.g. ``on_request_headers``."""
