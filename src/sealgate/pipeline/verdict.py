"""Verdicts: how a protection stops a request. Blocking is a returned value, never an exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision to answer the client now instead of forwarding the request.

    ``reason`` is shown to the client and must be safe to show; ``detail`` goes to the audit
    log only. ``extensions`` are extra members of the RFC 9457 problem body (for example the
    list of validation violations); they are shown to the client too.
    """

    status: int
    reason: str
    protection: str
    rule_id: str = ""
    detail: str = ""
    title: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
