"""The Protection protocol: a named object with optional async hooks, one per phase.

A protection defines any of ``on_request_headers``, ``on_request_body``,
``on_response_headers``, ``on_response_body`` and ``on_log``; each takes the
:class:`~sealgate.pipeline.exchange.Exchange` and returns a
:class:`~sealgate.pipeline.verdict.Verdict` to stop the request, or ``None`` to let it go on.
The chain calls only the hooks a protection defines, so an unused phase costs nothing.

Example::

    class DenyDelete:
        name = "deny_delete"

        async def on_request_headers(self, exchange: Exchange) -> Verdict | None:
            if exchange.method == "DELETE":
                return Verdict(405, "DELETE is not allowed here", self.name, rule_id="deny-delete")
            return None
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sealgate.pipeline.phases import HOOK_NAMES, Phase

if TYPE_CHECKING:
    from sealgate.pipeline.exchange import Exchange
    from sealgate.pipeline.verdict import Verdict

__all__ = ["Hook", "Protection", "hooks_of"]

Hook = Callable[["Exchange"], Awaitable["Verdict | None"]]


@runtime_checkable
class Protection(Protocol):
    """Anything with a ``name``; its phase hooks are optional methods (see the module doc)."""

    name: str


def hooks_of(protection: Protection, phase: Phase) -> Hook | None:
    """Return the protection's bound hook for ``phase``, or ``None`` if it does not define one."""
    hook: Hook | None = getattr(protection, HOOK_NAMES[phase], None)
    return hook
