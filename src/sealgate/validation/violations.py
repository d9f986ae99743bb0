"""Violations: what was wrong, where, and a short safe excerpt of the offending value.

A violation's ``location`` uses the syntax the detection engine uses for its inputs, so a client,
the audit log and the detectors all name a value the same way:

============================  =========================================
``path.articleId``            a path parameter
``query.articleId``           a query parameter (``query.filter[status]`` for deepObject)
``header.x-tenant``           a header parameter (name lower-case)
``cookie.session``            a cookie parameter
``body.$.items[3].qty``       a JSON (or XML, converted) body value
``body.title``                a form or multipart field
``body``                      the body as a whole
============================  =========================================

The ``excerpt`` is at most :data:`EXCERPT_CHARS` characters with control and invisible format
characters escaped (``\\n``, ``\\x00``, ``\\u202e``), never the whole payload.

Example::

    >>> excerpt("1; DROP TABLE articles; --\\n")
    '1; DROP TABLE articles; --\\\\n'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import jsonschema_rs
import orjson

__all__ = ["EXCERPT_CHARS", "LOCATION_CHARS", "Run", "Violation", "excerpt", "json_location", "json_path_location"]

EXCERPT_CHARS: Final = 40
"""Longest excerpt shown, ellipsis included."""
LOCATION_CHARS: Final = 120
"""Longest location shown (a location names client-chosen keys), ellipsis included."""

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_SECRETISH = re.compile(r"auth|token|secret|passw|key|session|cookie|csrf|sig", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Violation:
    """One way the request breaks the API's contract."""

    location: str
    message: str
    keyword: str = ""
    """The schema keyword that failed (``type``, ``format``, ``additionalProperties``...)."""
    excerpt: str | None = None

    @property
    def rule_id(self) -> str:
        """The rule id in the audit event (``schema-type``, ``schema-additionalProperties``...)."""
        return f"schema-{self.keyword}" if self.keyword else "schema"

    def to_dict(self) -> dict[str, str]:
        """The violation as shown to the client in the problem body."""
        out = {"location": self.location, "message": self.message}
        if self.keyword:
            out["keyword"] = self.keyword
        if self.excerpt is not None:
            out["excerpt"] = self.excerpt
        return out

    def to_log(self) -> dict[str, Any]:
        """The violation as a finding in the audit event (same shape as detector findings)."""
        return {
            "detector": "request_validation",
            "rule_id": self.rule_id,
            "message": self.message,
            "severity": "warning",
            "location": self.location,
            "excerpt": "" if self.excerpt is None or _secret_location(self.location) else self.excerpt,
        }


def _secret_location(location: str) -> bool:
    # Header and cookie parameters often carry credentials; their values stay out of the log.
    return location.startswith(("cookie.", "header.")) or bool(_SECRETISH.search(location))


def _escape_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return char


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped rendering of ``value`` for a violation (``…`` marks a cut)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes):
        text = value[: limit * 4].decode("utf-8", "replace")
    elif isinstance(value, bool) or value is None:
        text = "true" if value is True else "false" if value is False else "null"
    elif isinstance(value, int | float):
        text = repr(value)
    else:
        try:
            text = orjson.dumps(value).decode("utf-8")
        except TypeError:
            text = type(value).__name__
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = _escape_char(char)
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            break
    else:
        return "".join(pieces)
    while pieces and size + 1 > limit:  # room for the ellipsis, never half an escape
        size -= len(pieces.pop())
    return "".join(pieces) + "…"


def json_location(parent: str, key: str | int) -> str:
    """The location of ``key`` under ``parent``: ``body.$.items[3]``, ``body.$['a b']``.

    The same rule as the detection engine's :func:`sealgate.detectors.inputs.json_location`.
    """
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENT.match(key):
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


def json_path_location(root: str, path: Sequence[str | int]) -> str:
    """``json_location`` applied along ``path`` from ``root`` (``body.$`` + ``["a", 0]``)."""
    location = root
    for key in path:
        location = json_location(location, key)
    return location


class Run:
    """The violations of one request, capped at ``limit`` (``truncated`` says some were dropped)."""

    __slots__ = ("_seen", "failed", "limit", "status", "truncated", "violations")

    def __init__(self, limit: int = 20) -> None:
        self.violations: list[Violation] = []
        self._seen: set[tuple[str, str]] = set()
        self.limit = limit
        self.truncated = False
        self.status = 400
        self.failed: set[str] = set()

    @property
    def full(self) -> bool:
        """True once the cap is reached (further checks would only be counted)."""
        return self.truncated

    def add(self, violation: Violation) -> None:
        """Record a violation (or only note the truncation past the cap); repeats are dropped."""
        location = violation.location
        if len(location) > LOCATION_CHARS or not location.isprintable():
            # Field and parameter names are the client's: escape them and keep them short too.
            violation = replace(violation, location=excerpt(location, LOCATION_CHARS))
        key = (violation.location, violation.keyword)
        if key in self._seen:
            return  # e.g. a coercion failure that the schema then reports again
        self._seen.add(key)
        if len(self.violations) < self.limit:
            self.violations.append(violation)
        else:
            self.truncated = True

    def from_errors(self, errors: Iterable[jsonschema_rs.ValidationError], locate: Callable[[list[Any]], str]) -> None:
        """Turn jsonschema-rs errors into violations; ``locate`` maps an instance path to a location."""
        for error in errors:
            if self.truncated:
                return
            self._from_error(error, locate)

    def _from_error(self, error: jsonschema_rs.ValidationError, locate: Callable[[list[Any]], str]) -> None:
        kind = error.kind
        kind_name = type(kind).__name__
        keyword = kind.name
        data = kind.as_dict()
        path = list(error.instance_path)
        if kind_name == "Required":
            location = locate([*path, data.get("property", "")])
            self.failed.add(location)
            self.add(Violation(location, "is required", keyword))
            return
        if kind_name in ("AdditionalProperties", "UnevaluatedProperties"):
            instance = error.instance if isinstance(error.instance, dict) else {}
            for name in data.get("unexpected") or ():
                location = locate([*path, name])
                self.failed.add(location)
                self.add(Violation(location, "is not a declared field", keyword, excerpt(instance.get(name))))
            return
        location = locate(path)
        self.failed.add(location)
        self.add(Violation(location, _message(kind_name, data), keyword, excerpt(error.instance)))


_MESSAGES: Final = {
    "Type": "expected {types}",
    "Format": "is not a valid {format}",
    "Pattern": "does not match the required pattern",
    "Enum": "is not one of the allowed values",
    "Constant": "is not the allowed value",
    "Minimum": "must be >= {limit}",
    "Maximum": "must be <= {limit}",
    "ExclusiveMinimum": "must be > {limit}",
    "ExclusiveMaximum": "must be < {limit}",
    "MinLength": "must be at least {limit} characters long",
    "MaxLength": "must be at most {limit} characters long",
    "MinItems": "must have at least {limit} items",
    "MaxItems": "must have at most {limit} items",
    "MinProperties": "must have at least {limit} fields",
    "MaxProperties": "must have at most {limit} fields",
    "UniqueItems": "must not contain duplicate items",
    "MultipleOf": "must be a multiple of {multiple_of}",
    "FalseSchema": "is not allowed in a request",
    "AnyOf": "does not match any of the allowed shapes",
    "OneOfNotValid": "does not match any of the allowed shapes",
    "OneOfMultipleValid": "matches more than one of the allowed shapes",
    "Not": "matches a forbidden shape",
    "Contains": "contains no item of the required shape",
    "PropertyNames": "has a field name that is not allowed",
    "UnevaluatedItems": "has items that are not allowed",
    "AdditionalItems": "has items that are not allowed",
    "BacktrackLimitExceeded": "could not be checked against its pattern",
    "RegexEngineFailure": "could not be checked against its pattern",
}
"""Short messages by jsonschema-rs error kind; never the value itself (that is the excerpt)."""


def _message(kind_name: str, data: dict[str, Any]) -> str:
    template = _MESSAGES.get(kind_name)
    if template is None:
        return f"fails the {kind_name} rule"
    return template.format(
        types=" or ".join(str(t) for t in data.get("types") or ()),
        format=data.get("format"),
        limit=data.get("limit"),
        multiple_of=data.get("multiple_of"),
    )
