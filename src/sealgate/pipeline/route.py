"""The route a request matched: the OpenAPI operation and its extracted path parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CATCH_ALL", "Route"]


@dataclass(frozen=True, slots=True)
class Route:
    """One operation of the API (``GET /articles/{articleId}``) with its resolved OpenAPI object.

    ``operation`` and ``parameters`` have every local ``$ref`` resolved; ``parameters`` merges the
    path item's and the operation's parameters (the operation's win, as OpenAPI says).
    ``settings`` carries per-route overrides from ``sealgate.yaml`` (``routes:``) and the
    operation's ``x-sealgate`` extension.
    """

    method: str
    path_template: str
    operation_id: str = ""
    operation: dict[str, Any] = field(default_factory=dict)
    parameters: tuple[dict[str, Any], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    declared: bool = True

    @property
    def key(self) -> str:
        """``"GET /articles/{articleId}"``: the route's stable name in logs, metrics and config."""
        return f"{self.method} {self.path_template}"


CATCH_ALL = Route(method="*", path_template="/*", operation_id="", declared=False)
"""The route every request gets when no OpenAPI spec is configured (or an unknown route passes)."""
