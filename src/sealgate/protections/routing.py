"""Routing: match every request to an operation of the API's OpenAPI spec.

Blocks requests to paths the spec does not declare (404) and methods a declared path does not
allow (405, with ``Allow``), unless ``routing.unknown_routes: pass``. The matched
:class:`~sealgate.pipeline.route.Route` and the extracted path parameters go on the exchange for
later protections (validation reads the operation's schemas). With no spec every request gets
the catch-all route.

Config::

    routing:
      spec: openapi.yaml        # OpenAPI 3.0/3.1, YAML or JSON; local $refs resolved
      unknown_routes: block     # or pass

Per-route settings (``routes:`` in sealgate.yaml, keyed ``"GET /api/v1/articles/{articleId}"``,
or ``x-sealgate`` on the operation) are merged into ``Route.settings``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sealgate.openapi.document import OpenAPIDocument, load_document
from sealgate.pipeline.exchange import Exchange
from sealgate.pipeline.route import CATCH_ALL, Route
from sealgate.pipeline.verdict import Verdict

__all__ = ["Router", "RoutingConfig", "RoutingProtection"]

_PARAM = re.compile(r"\{([^{}/]+)\}")


class RoutingConfig(BaseModel):
    """``routing:`` in sealgate.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spec: Path | None = Field(
        None, description="Path to the API's OpenAPI 3.0/3.1 document (YAML or JSON); relative "
        "paths are relative to sealgate.yaml. Without it, every request is one catch-all route."
    )
    unknown_routes: Literal["block", "pass"] = Field(
        "block", description="What to do with a path or method the spec does not declare: block "
        "(404/405 problem) or pass (forward it as the catch-all route)."
    )


class _Template:
    __slots__ = ("names", "pattern", "static_count", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self.names = _PARAM.findall(template)
        parts = _PARAM.split(template)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else "([^/]+)" for i, part in enumerate(parts)
        )
        self.pattern = re.compile(regex)
        self.static_count = sum(1 for seg in template.split("/") if seg and "{" not in seg)


class Router:
    """Matches (method, path) to a route: exact paths first, then templates with the most literal segments."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._exact: dict[str, dict[str, Route]] = {}
        self._templated: dict[str, dict[str, Route]] = {}
        templates: dict[str, _Template] = {}
        for route in routes:
            if "{" in route.path_template:
                self._templated.setdefault(route.path_template, {})[route.method] = route
                templates.setdefault(route.path_template, _Template(route.path_template))
            else:
                self._exact.setdefault(route.path_template, {})[route.method] = route
        self._templates = sorted(templates.values(), key=lambda t: (-t.static_count, -len(t.template)))

    def match(self, method: str, path: str) -> tuple[Mapping[str, Route] | None, dict[str, str]]:
        """The routes by method of the first path that matches, and its path parameters."""
        if len(path) > 1 and path.endswith("/") and path.rstrip("/") in self._exact:
            path = path.rstrip("/")
        found = self._exact.get(path)
        if found is not None:
            return found, {}
        for template in self._templates:
            m = template.pattern.fullmatch(path)
            if m is not None:
                return self._templated[template.template], dict(zip(template.names, m.groups(), strict=True))
        return None, {}


class RoutingProtection:
    """Matches each request to its OpenAPI operation; see the module docstring."""

    name = "routing"

    def __init__(
        self,
        config: RoutingConfig,
        document: OpenAPIDocument | None = None,
        route_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.config = config
        if document is None and config.spec is not None:
            document = load_document(config.spec)
        self.document = document
        overrides = route_settings or {}
        routes = tuple(
            replace(r, settings={**r.settings, **overrides.get(r.key, {})})
            for r in (document.routes if document else ())
        )
        self.router = Router(routes) if document is not None else None
        self.catch_all = replace(CATCH_ALL, settings=dict(overrides.get(CATCH_ALL.key, {})))

    async def on_request_headers(self, exchange: Exchange) -> Verdict | None:
        """Attach the matched route, or block an undeclared path or method."""
        if self.router is None:
            exchange.route = self.catch_all
            return None
        by_method, params = self.router.match(exchange.method, exchange.path)
        route = by_method.get(exchange.method) if by_method else None
        if route is None and by_method and exchange.method == "HEAD":
            route = by_method.get("GET")
        if route is not None:
            exchange.route = route
            exchange.path_params = params
            return None
        exchange.route = self.catch_all
        if self.config.unknown_routes == "pass":
            return None
        if by_method:
            allowed = ", ".join(sorted(by_method))
            return Verdict(
                405,
                f"{exchange.method} is not allowed on this path; allowed: {allowed}",
                self.name,
                rule_id="method-not-allowed",
                headers=(("allow", allowed),),
            )
        return Verdict(404, "no such API operation", self.name, rule_id="unknown-route")
