"""Request sanitization: rewrite chosen request values before they reach the API.

Off by default: nothing is rewritten unless a field is configured, either on the operation in
the spec (``x-sealgate-sanitize`` on a request-body property or on a parameter) or in
sealgate.yaml. Each field gets a list of operations, applied in order:

- ``nfkc``: Unicode NFKC normalization (full-width ``＜`` becomes ``<``, ligatures split);
- ``strip-control``: remove control characters (C0/C1 except tab, LF, CR; DEL) and invisible
  format characters (zero-width, bidi overrides and isolates, word joiner, BOM, soft hyphen);
- ``strip-html``: remove markup: tags, comments, doctype; repeated until stable so nested tricks
  (``<scr<script>ipt>``) cannot reassemble a tag, and any ``<`` that would still open one is
  dropped. Entities are left as text (``&lt;b&gt;`` stays literally that);
- ``escape-html``: escape ``& < > " '`` as HTML entities.

What is rewritten: JSON body values (``body.$.title``, ``body.$.items[*].name``; a field that
holds an object or array has every string inside it rewritten) — the body is re-serialized and
forwarded with the new length — and query values (``query.q``), re-encoded. Values run through
request validation first (validation sees what the client sent), and the injection detectors
after (they see what the API will get). Form, multipart and XML bodies are not rewritten.

Config::

    sanitize:
      enabled: true
      from_spec: true                  # honour x-sealgate-sanitize in the OpenAPI spec
      fields:
        "POST /api/v1/articles":       # a route key, or "*" for every route
          body.$.title: [nfkc, strip-control, strip-html]
          body.$.tags[*]: [strip-control]
          query.q: [strip-control]

In the spec::

    properties:
      title: {type: string, x-sealgate-sanitize: [strip-html]}
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote, unquote_plus

import orjson
from pydantic import BaseModel, ConfigDict, Field

from sealgate.errors import BodyParseError, ConfigError
from sealgate.pipeline.exchange import Exchange, is_json_type
from sealgate.pipeline.verdict import Verdict

if TYPE_CHECKING:
    from sealgate.openapi.document import OpenAPIDocument

__all__ = ["OPERATIONS", "SanitizeConfig", "SanitizeProtection", "build_sanitize", "sanitize_text"]

Operation = Literal["nfkc", "strip-control", "strip-html", "escape-html"]
Segment = str | int
"""A step of a body path: a property name, an array index, or ``*`` (every item/property)."""

EXTENSION: Final = "x-sealgate-sanitize"
_INVISIBLE: Final = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_CONTROL_TABLE: Final = {
    **{c: None for c in range(0x20) if chr(c) not in "\t\n\r"},
    **{c: None for c in range(0x7F, 0xA0)},
    **{ord(c): None for c in _INVISIBLE},
}
_TAG: Final = re.compile(r"<[A-Za-z/!?][^<>]*>")  # "a < b" is text: a tag name follows "<" at once
_TAG_START: Final = re.compile(r"<(?=[A-Za-z/!?])")
_MAX_HTML_PASSES: Final = 8


def _strip_html(text: str) -> str:
    if "<" not in text:
        return text
    for _ in range(_MAX_HTML_PASSES):
        stripped = _TAG.sub("", text)
        if stripped == text:
            break
        text = stripped
    # Whatever could still open a tag ("<img src=x onerror=..." with no ">") loses its "<".
    return _TAG_START.sub("", text)


OPERATIONS: Final[dict[str, Callable[[str], str]]] = {
    "nfkc": lambda text: unicodedata.normalize("NFKC", text),
    "strip-control": lambda text: text.translate(_CONTROL_TABLE),
    "strip-html": _strip_html,
    "escape-html": lambda text: html.escape(text, quote=True),
}
"""The operations by name."""


def sanitize_text(text: str, operations: tuple[str, ...]) -> str:
    """Apply ``operations`` to ``text`` in order."""
    for name in operations:
        text = OPERATIONS[name](text)
    return text


class SanitizeConfig(BaseModel):
    """``sanitize:`` in sealgate.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        True, description="Apply the configured rewrites (nothing is rewritten unless fields are configured)."
    )
    from_spec: bool = Field(True, description="Honour x-sealgate-sanitize on request-body properties and parameters.")
    fields: dict[str, dict[str, tuple[Operation, ...]]] = Field(
        default_factory=dict,
        description='Route key ("POST /api/v1/articles", or "*" for all) → location ("body.$.title", '
        '"body.$.items[*].name", "query.q") → operations (nfkc, strip-control, strip-html, escape-html).',
    )


class _Rules:
    __slots__ = ("body", "query")

    def __init__(self) -> None:
        self.query: dict[str, tuple[str, ...]] = {}
        self.body: list[tuple[tuple[Segment, ...], tuple[str, ...]]] = []

    def add(self, location: str, operations: tuple[str, ...], where: str) -> None:
        if location.startswith("query.") and len(location) > 6:
            self.query[location[6:]] = self.query.get(location[6:], ()) + operations
        elif location == "body.$" or location.startswith(("body.$.", "body.$[")):
            self.body.append((parse_body_path(location, where), operations))
        else:
            raise ConfigError(f'{where}: "{location}" is not a sanitizable location (use body.$... or query.NAME)')

    def __bool__(self) -> bool:
        return bool(self.query or self.body)


_PATH_TOKEN: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\*|[0-9]+)\]|\.\*")


def parse_body_path(location: str, where: str = "sanitize") -> tuple[Segment, ...]:
    """``body.$.items[*].name`` → ``("items", "*", "name")``; ConfigError for bad syntax."""
    rest = location[len("body.$"):]
    segments: list[Segment] = []
    pos = 0
    while pos < len(rest):
        m = _PATH_TOKEN.match(rest, pos)
        if m is None:
            raise ConfigError(f'{where}: cannot read "{location}" at "{rest[pos:]}" (use .name, [\'a b\'], [0], [*])')
        name, quoted, index = m.group(1), m.group(2), m.group(3)
        if name is not None:
            segments.append(name)
        elif quoted is not None:
            segments.append(re.sub(r"\\(.)", r"\1", quoted))
        elif index is not None:
            segments.append("*" if index == "*" else int(index))
        else:
            segments.append("*")
        pos = m.end()
    return tuple(segments)


def _rewrite_all(value: Any, operations: tuple[str, ...]) -> tuple[Any, bool]:
    if isinstance(value, str):
        new = sanitize_text(value, operations)
        return new, new != value
    changed = False
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i], item_changed = _rewrite_all(item, operations)
            changed = changed or item_changed
    elif isinstance(value, dict):
        for key, item in value.items():
            value[key], item_changed = _rewrite_all(item, operations)
            changed = changed or item_changed
    return value, changed


def _apply(node: Any, path: tuple[Segment, ...], operations: tuple[str, ...]) -> tuple[Any, bool]:
    if not path:
        return _rewrite_all(node, operations)
    head, rest = path[0], path[1:]
    keys: list[Any]
    if head == "*":
        keys = list(range(len(node))) if isinstance(node, list) else list(node) if isinstance(node, dict) else []
    elif isinstance(head, int):
        keys = [head] if isinstance(node, list) and head < len(node) else []
    else:
        keys = [head] if isinstance(node, dict) and head in node else []
    changed = False
    for key in keys:
        node[key], child_changed = _apply(node[key], rest, operations)
        changed = changed or child_changed
    return node, changed


class SanitizeProtection:
    """Rewrites configured request values; see the module docstring."""

    name = "sanitize"

    def __init__(self, rules: Mapping[str, _Rules]) -> None:
        self._rules = dict(rules)
        self._everywhere = self._rules.pop("*", None)

    def _for(self, route_key: str) -> list[_Rules]:
        found = [r for r in (self._everywhere, self._rules.get(route_key)) if r is not None]
        return found

    async def on_request_headers(self, exchange: Exchange) -> Verdict | None:
        """Rewrite configured query values."""
        rules = self._for(exchange.route.key)
        query: dict[str, tuple[str, ...]] = {}
        for rule in rules:
            for name, ops in rule.query.items():
                query[name] = query.get(name, ()) + ops
        if query and exchange.query_string:
            _rewrite_query(exchange, query)
        return None

    async def on_request_body(self, exchange: Exchange) -> Verdict | None:
        """Rewrite configured JSON body values and re-serialize the body if anything changed."""
        rules = self._for(exchange.route.key)
        paths = [entry for rule in rules for entry in rule.body]
        if not paths or not exchange.body or not is_json_type(exchange.content_type):
            return None
        try:
            parsed = exchange.parsed_body()
        except BodyParseError:
            return None  # validation (or the upstream) reports it; nothing to rewrite
        changed = False
        for path, operations in paths:
            parsed, path_changed = _apply(parsed, path, operations)
            changed = changed or path_changed
        if changed:
            _replace_body(exchange, orjson.dumps(parsed))
        return None


def _replace_body(exchange: Exchange, body: bytes) -> None:
    exchange.replace_body(body)  # also keeps Content-Length true for middleware mode
    exchange.audit.setdefault("sanitized", True)


def _rewrite_query(exchange: Exchange, rules: Mapping[str, tuple[str, ...]]) -> None:
    items = exchange.query_string.decode("latin-1").split("&")
    changed = False
    for index, item in enumerate(items):
        raw_name, sep, raw_value = item.partition("=")
        if not sep:
            continue
        operations = rules.get(unquote_plus(raw_name))
        if operations is None:
            continue
        value = unquote_plus(raw_value)
        new = sanitize_text(value, operations)
        if new != value:
            items[index] = f"{raw_name}={quote(new, safe='')}"
            changed = True
    if changed:
        exchange.replace_query("&".join(items).encode("latin-1"))
        exchange.audit.setdefault("sanitized", True)


def _operations(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v in OPERATIONS for v in value):
        raise ConfigError(f"{where}: {EXTENSION} must be a list of {', '.join(OPERATIONS)}")
    return tuple(value)


def _spec_body_paths(schema: Any, prefix: tuple[Segment, ...], out: list[tuple[tuple[Segment, ...], tuple[str, ...]]],
                     where: str, depth: int = 0) -> None:
    if not isinstance(schema, dict) or "$ref" in schema or depth > 32:
        return
    if EXTENSION in schema and prefix:
        out.append((prefix, _operations(schema[EXTENSION], where)))
        return
    for name, sub in (schema.get("properties") or {}).items():
        _spec_body_paths(sub, (*prefix, name), out, where, depth + 1)
    items = schema.get("items")
    if isinstance(items, dict):
        _spec_body_paths(items, (*prefix, "*"), out, where, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key) or ():
            _spec_body_paths(branch, prefix, out, where, depth + 1)


def _rules_from_spec(document: OpenAPIDocument) -> dict[str, _Rules]:
    found: dict[str, _Rules] = {}
    for route in document.routes:
        rules = _Rules()
        where = f"{document.source}: {route.key}"
        for param in route.parameters:
            ext = param.get(EXTENSION)
            schema = param.get("schema")
            if ext is None and isinstance(schema, dict):
                ext = schema.get(EXTENSION)
            if ext is not None and param.get("in") == "query" and isinstance(param.get("name"), str):
                rules.add(f"query.{param['name']}", _operations(ext, where), where)
        body = route.operation.get("requestBody")
        content = body.get("content") if isinstance(body, dict) else None
        for media, entry in (content or {}).items():
            if is_json_type(str(media).split(";", 1)[0].strip().lower()) and isinstance(entry, dict):
                _spec_body_paths(entry.get("schema"), (), rules.body, where)
        if rules:
            found[route.key] = rules
    return found


def build_sanitize(config: SanitizeConfig, document: OpenAPIDocument | None) -> SanitizeProtection | None:
    """The sanitize protection for ``config`` and the spec's extensions, or None when nothing is configured."""
    if not config.enabled:
        return None
    rules = _rules_from_spec(document) if document is not None and config.from_spec else {}
    known = {route.key for route in document.routes} if document is not None else set()
    for route_key, fields in config.fields.items():
        if route_key != "*" and document is not None and route_key not in known:
            raise ConfigError(f'sanitize.fields: "{route_key}" is not an operation of the spec')
        target = rules.setdefault(route_key, _Rules())
        for location, operations in fields.items():
            target.add(location, tuple(operations), f'sanitize.fields."{route_key}"')
    rules = {key: value for key, value in rules.items() if value}
    return SanitizeProtection(rules) if rules else None
