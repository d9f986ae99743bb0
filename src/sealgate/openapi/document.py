"""An OpenAPI 3.0 or 3.1 document, loaded once at startup.

Local ``$ref``s (``#/components/...``) are resolved into the operation objects so protections
read plain dicts. A recursive schema cannot be inlined forever: the inner repetition keeps its
``$ref``, which the validators resolve against :attr:`OpenAPIDocument.raw`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from sealgate.errors import SpecError
from sealgate.pipeline.route import Route

__all__ = ["HTTP_METHODS", "OpenAPIDocument", "load_document", "resolve_refs"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class OpenAPIDocument:
    """The parsed document, its operations as :class:`Route` objects and its base path."""

    def __init__(self, raw: dict[str, Any], source: str = "<memory>") -> None:
        version = str(raw.get("openapi", ""))
        if not version.startswith(("3.0", "3.1")):
            raise SpecError(f"{source}: 'openapi' must be 3.0.x or 3.1.x (found {version or 'nothing'})")
        if not isinstance(raw.get("paths", {}), dict):
            raise SpecError(f"{source}: 'paths' must be a mapping")
        self.raw = raw
        self.source = source
        self.version = version
        self.base_path = _base_path(raw)
        self.routes = tuple(self._routes())

    def _routes(self) -> list[Route]:
        routes: list[Route] = []
        for template, item in (self.raw.get("paths") or {}).items():
            if not isinstance(template, str) or not template.startswith("/"):
                raise SpecError(f"{self.source}: path {template!r} must start with '/'")
            item = resolve_refs(item, self.raw, self.source)
            if not isinstance(item, dict):
                raise SpecError(f"{self.source}: paths.{template} must be a mapping")
            shared = {_param_key(p): p for p in item.get("parameters", []) if isinstance(p, dict)}
            for method in HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                params = dict(shared)
                for param in operation.get("parameters", []):
                    if isinstance(param, dict):
                        params[_param_key(param)] = param
                ext = operation.get("x-sealgate")
                routes.append(
                    Route(
                        method=method.upper(),
                        path_template=self.base_path + template if self.base_path else template,
                        operation_id=str(operation.get("operationId", "")),
                        operation=operation,
                        parameters=tuple(params.values()),
                        settings=dict(ext) if isinstance(ext, dict) else {},
                    )
                )
        return routes


def load_document(path: str | Path) -> OpenAPIDocument:
    """Read a YAML or JSON OpenAPI document from ``path``; raises :class:`SpecError` with the reason."""
    spec_path = Path(path)
    try:
        text = spec_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read the OpenAPI spec {spec_path}: {exc.strerror}") from None
    try:
        raw = json.loads(text) if spec_path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SpecError(f"{spec_path} is not valid YAML/JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{spec_path}: an OpenAPI document must be a mapping at the top level")
    return OpenAPIDocument(raw, str(spec_path))


def resolve_refs(node: Any, root: dict[str, Any], source: str, _stack: tuple[str, ...] = ()) -> Any:
    """Return ``node`` with every local ``$ref`` replaced by its target (cycles keep their ``$ref``)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in _stack:
                return node
            target = _lookup(ref, root, source)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            resolved = resolve_refs(target, root, source, (*_stack, ref))
            if siblings and isinstance(resolved, dict):
                resolved = {**resolved, **resolve_refs(siblings, root, source, _stack)}
            return resolved
        return {k: resolve_refs(v, root, source, _stack) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_refs(v, root, source, _stack) for v in node]
    return node


def _lookup(ref: str, root: dict[str, Any], source: str) -> Any:
    if not ref.startswith("#/"):
        raise SpecError(f"{source}: only local $refs ('#/...') are supported, found {ref!r}")
    node: Any = root
    for raw_part in ref[2:].split("/"):
        part = unquote(raw_part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SpecError(f"{source}: $ref {ref!r} points to nothing")
    return node


def _param_key(param: dict[str, Any]) -> tuple[str, str]:
    return (str(param.get("in", "")), str(param.get("name", "")))


def _base_path(raw: dict[str, Any]) -> str:
    servers = raw.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url", ""))
    path = urlsplit(url).path if "://" in url else url
    path = path.rstrip("/")
    return "" if "{" in path else path
