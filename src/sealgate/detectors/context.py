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

from contextvars import ContextVar, Token
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

# A client sends the same Host and Referer request after request: their context is built once.
_SHARED: dict[tuple[str, str | None], RequestContext] = {}
_SHARED_MAX = 1024
_SHARED_MAX_CHARS = 512  # longer Referers are not kept (bounds the memory to ~1 MB)


def _context_for(host: str, referer: str | None) -> RequestContext:
    key = (host, referer)
    found = _SHARED.get(key)
    if found is None:
        found = RequestContext(host=host.strip().lower(), referer=referer)
        if len(host) + len(referer or "") <= _SHARED_MAX_CHARS:
            if len(_SHARED) >= _SHARED_MAX:
                _SHARED.clear()
            _SHARED[key] = found
    return found


def current_context() -> RequestContext | None:
    """The context of the request being inspected, or ``None`` outside :func:`request_context`."""
    return _CURRENT.get()


class request_context:  # lower-case: used like the function it replaced, ``with request_context(...)``
    """Make ``host`` and ``referer`` visible to detectors for the duration of the block.

    A small class rather than ``@contextmanager``: the generator machinery cost more than the
    rest of a clean request's context handling (it runs once per inspected request).
    """

    __slots__ = ("_context", "_token")

    def __init__(self, host: str, referer: str | None = None) -> None:
        self._context = _context_for(host, referer)
        self._token: Token[RequestContext | None] | None = None

    def __enter__(self) -> RequestContext:
        self._token = _CURRENT.set(self._context)
        return self._context

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None
