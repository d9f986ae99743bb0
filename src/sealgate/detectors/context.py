"""Request-wide facts a few detectors need besides the value itself: Host and Referer.

A detector sees one value at a time. Two attack shapes are only attacks relative to the
request they arrive in:

- an *off-domain* URL (RFI, CRS 931130): ``https://evil.example/`` is suspicious in a request
  to ``shop.example``, and normal in a request to ``evil.example``;
- a session id in the query string (session fixation, CRS 943110/943120) is an attack when the
  link came from another site or from nowhere (no ``Referer``), not when the site's own pages
  carry it.

The detection engine sets the context around its detector calls::

    with request_context(host=exchange.header("host") or "", referer=exchange.header("referer")):
        findings = detector.detect(value, location, paranoia)

Outside such a block :func:`current_context` is ``None``, and those detectors fall back to the
value-only evidence (weaker, non-blocking findings). A :class:`~contextvars.ContextVar` keeps
concurrent requests (asyncio tasks) apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["RequestContext", "current_context", "request_context"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What detectors may know about the request beyond the inspected value."""

    host: str = ""
    """The ``Host`` header as sent (``example.com:8080``), lower-case; ``""`` if unknown."""
    referer: str | None = None
    """The ``Referer`` header, or ``None`` when the request had none."""


_CURRENT: ContextVar[RequestContext | None] = ContextVar("sealgate_request_context", default=None)


def current_context() -> RequestContext | None:
    """The context of the request being inspected, or ``None`` outside :func:`request_context`."""
    return _CURRENT.get()


@contextmanager
def request_context(host: str, referer: str | None = None) -> Iterator[RequestContext]:
    """Make ``host`` and ``referer`` visible to detectors for the duration of the block."""
    context = RequestContext(host=host.strip().lower(), referer=referer)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)
