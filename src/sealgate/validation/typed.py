"""Which values a schema proves safe by type: the validator's hand-off to the injection detectors.

Once a value has passed validation, some schemas leave no room for an injection payload: an
integer, a number, a boolean, a member of an ``enum``/``const``, a string of format ``uuid``,
``date``, ``date-time``, ``time``, ``ipv4`` or ``ipv6``, or a string matching a fully anchored
``pattern`` (``^...$``) whose every character is a letter, digit or one of ``_ - . : @ , ~``.
Their locations go into ``exchange.state["validation"]["typed"]`` and the detectors skip them.

Parameters and form fields are text on the wire, so a typed integer ``query.limit`` is listed.
In a JSON body only *strings* are listed (``body.$.items[0].sku``, ``body.$.status``): JSON
numbers, booleans and nulls carry no text and the detection engine never inspects them, so
listing them would cost time (a string per value) for nothing.

Free text is never typed, however tight its ``maxLength``. The pattern analysis is conservative:
anything it does not fully understand (look-around, back-references, ``.``, ``\\s``, negated
classes, top-level alternation, a class containing a quote, a space, ``<``, ``%``, ``/``...) is
not safe. Patterns run in jsonschema-rs with ECMA/Rust semantics, where ``$`` is the end of the
text (it does not match before a trailing newline as Python's ``re`` does).

Example::

    >>> safe_pattern("^[A-Z]{2}-\\\\d{4}$"), safe_pattern("^[a-z ]+$"), safe_pattern("[0-9]+")
    (True, False, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sealgate.validation.schema import schema_types
from sealgate.validation.violations import json_location

__all__ = ["SAFE_FORMATS", "Walker", "build_walker", "is_typed", "safe_pattern"]

SAFE_FORMATS: Final = frozenset({"uuid", "date", "date-time", "time", "ipv4", "ipv6"})
"""String formats whose valid values cannot carry quotes, spaces or markup."""

_SAFE_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:@,~")
_RANGE_GROUPS: Final = ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789")
_QUANT_START: Final = frozenset("*+?{")


class _Unsafe(Exception):
    pass


def _safe_escape(char: str) -> bool:
    # \d and \w, or an escaped punctuation character that is safe itself (\. \- \_ \: \@ \, \~).
    return char in ("d", "w") or (char in _SAFE_CHARS and not char.isalnum())


class _PatternReader:
    """A recursive-descent reader of the small, safe subset of regex syntax."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _Unsafe
        self.pos += 1
        return char

    def alternatives(self, top: bool) -> None:
        self.sequence()
        while self.peek() == "|":
            if top:
                raise _Unsafe  # ^a|b$ is (^a)|(b$): not anchored
            self.pos += 1
            self.sequence()

    def sequence(self) -> None:
        while self.peek() not in ("", "|", ")"):
            if self.peek() == "$" and self.pos == len(self.text) - 1:
                return
            self.atom()
            self.quantifier()

    def atom(self) -> None:
        char = self.take()
        if char == "\\":
            if not _safe_escape(self.take()):
                raise _Unsafe  # \s, \D, \W, \b, \1, \p{..}, \x27, \u0027...
        elif char == "[":
            self.char_class()
        elif char == "(":
            if self.peek() == "?":
                self.pos += 1
                if self.take() != ":":
                    raise _Unsafe  # look-around, named groups, flags
            self.alternatives(top=False)
            if self.take() != ")":
                raise _Unsafe
        elif char not in _SAFE_CHARS or char == ".":
            raise _Unsafe  # "." is any character

    def char_class(self) -> None:
        if self.peek() == "^":
            raise _Unsafe
        first = True
        while True:
            char = self.take()
            if char == "]" and not first:
                return
            first = False
            if char == "\\":
                if _safe_escape(self.take()):
                    continue
                raise _Unsafe
            if char not in _SAFE_CHARS:
                raise _Unsafe
            if self.peek() == "-" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] != "]":
                self.pos += 1
                end = self.take()
                if not any(char in g and end in g and g.index(char) <= g.index(end) for g in _RANGE_GROUPS):
                    raise _Unsafe  # [!-~] and friends span quotes and brackets

    def quantifier(self) -> None:
        char = self.peek()
        if char not in _QUANT_START or not char:
            return
        self.pos += 1
        if char == "{":
            while self.peek().isdigit() or self.peek() == ",":
                self.pos += 1
            if self.take() != "}":
                raise _Unsafe
        if self.peek() == "?":
            self.pos += 1


def safe_pattern(pattern: Any) -> bool:
    """True when every string matching ``pattern`` is made of safe characters only."""
    if not isinstance(pattern, str) or len(pattern) < 3 or not pattern.startswith("^") or not pattern.endswith("$"):
        return False
    if pattern.endswith("\\$"):
        return False
    reader = _PatternReader(pattern)
    reader.pos = 1
    try:
        reader.alternatives(top=True)
    except _Unsafe:
        return False
    return reader.pos == len(pattern) - 1


def is_typed(schema: Any, formats_checked: bool = True) -> bool:
    """True when every value valid against ``schema`` (a translated schema) is a safe scalar."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return False
    if "const" in schema:
        return not isinstance(schema["const"], dict | list)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return all(not isinstance(v, dict | list) for v in enum)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            return all(is_typed(b, formats_checked) for b in branches)
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and any(is_typed(b, formats_checked) for b in all_of):
        return True
    types = schema.get("type")
    declared = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if not declared:
        return False
    for kind in declared:
        if kind in ("integer", "number", "boolean", "null"):
            continue
        if kind == "string" and (
            (formats_checked and schema.get("format") in SAFE_FORMATS) or safe_pattern(schema.get("pattern"))
        ):
            continue
        return False
    return True


Walker = Callable[[Any, str, set[str]], None]
"""Adds to the set the locations of the typed values inside a (valid) value at a location."""

def _leaf(node: Any, location: str, out: set[str]) -> None:
    if type(node) is str:
        out.add(location)


def build_walker(schema: Any, formats_checked: bool = True, _depth: int = 0) -> Walker | None:
    """A walker collecting the typed locations of values of ``schema``; None when nothing is typed.

    Built once per schema at startup; specialised closures keep the per-request walk to a dict
    lookup and a string concatenation per typed value.
    """
    if _depth > 64 or not isinstance(schema, dict):
        return None
    if is_typed(schema, formats_checked):
        types = schema_types(schema)
        return _leaf if not types or "string" in types else None  # valid JSON numbers are never text
    if any(k in schema for k in ("anyOf", "oneOf", "allOf", "not", "if", "$ref")):
        return None  # composition of containers: conservatively nothing
    types = schema_types(schema)
    walkers: list[Walker] = []
    if not types or "object" in types:
        found = _object_walker(schema, formats_checked, _depth)
        if found is not None:
            walkers.append(found)
    if not types or "array" in types:
        found = _array_walker(schema, formats_checked, _depth)
        if found is not None:
            walkers.append(found)
    if not walkers:
        return None
    if len(walkers) == 1:
        return walkers[0]
    first, second = walkers

    def either(node: Any, location: str, out: set[str]) -> None:
        first(node, location, out)
        second(node, location, out)

    return either


_Parts = tuple[list[tuple[str, str]], list[tuple[str, str, Walker]], Walker | None]


def _object_parts(schema: dict[str, Any], formats_checked: bool, depth: int) -> _Parts:
    leaves: list[tuple[str, str]] = []
    nested: list[tuple[str, str, Walker]] = []
    for name, sub in (schema.get("properties") or {}).items():
        child = build_walker(sub, formats_checked, depth + 1)
        if child is _leaf:
            leaves.append((name, json_location("", name)))
        elif child is not None:
            nested.append((name, json_location("", name), child))
    extra_schema = schema.get("additionalProperties")
    extra = None
    if isinstance(extra_schema, dict) and not schema.get("patternProperties"):
        extra = build_walker(extra_schema, formats_checked, depth + 1)
    return leaves, nested, extra


def _object_walker(schema: dict[str, Any], formats_checked: bool, depth: int) -> Walker | None:
    leaves, nested, extra = _object_parts(schema, formats_checked, depth)
    if not leaves and not nested and extra is None:
        return None
    declared = frozenset(schema.get("properties") or ())

    def walk(node: Any, location: str, out: set[str]) -> None:
        if type(node) is not dict:
            return
        add = out.add
        for name, suffix in leaves:
            if type(node.get(name)) is str:
                add(location + suffix)
        for name, suffix, child in nested:
            if name in node:
                child(node[name], location + suffix, out)
        if extra is not None:
            for name, value in node.items():
                if name not in declared:
                    extra(value, json_location(location, name), out)

    return walk


def _array_walker(schema: dict[str, Any], formats_checked: bool, depth: int) -> Walker | None:
    prefix_schemas = schema.get("prefixItems")
    prefix = tuple(build_walker(s, formats_checked, depth + 1) for s in prefix_schemas) if isinstance(
        prefix_schemas, list) else ()
    items_schema = schema.get("items")
    items = build_walker(items_schema, formats_checked, depth + 1) if isinstance(items_schema, dict) else None
    if items is None and not any(p is not None for p in prefix):
        return None
    if items is _leaf and not prefix:

        def walk_leaves(node: Any, location: str, out: set[str]) -> None:
            if type(node) is list:
                out.update([f"{location}[{i}]" for i, value in enumerate(node) if type(value) is str])

        return walk_leaves
    item_types = schema_types(items_schema)
    if not prefix and isinstance(items_schema, dict) and "object" in item_types and "array" not in item_types:
        leaves, nested, extra = _object_parts(items_schema, formats_checked, depth + 1)
        if leaves and not nested and extra is None:
            # The common "array of records" shape, without a call per record.

            def walk_records(node: Any, location: str, out: set[str]) -> None:
                if type(node) is not list:
                    return
                add = out.add
                for index, record in enumerate(node):
                    if type(record) is dict:
                        for name, suffix in leaves:
                            if type(record.get(name)) is str:
                                add(f"{location}[{index}]{suffix}")

            return walk_records

    def walk(node: Any, location: str, out: set[str]) -> None:
        if type(node) is not list:
            return
        for index, value in enumerate(node):
            child = prefix[index] if index < len(prefix) else items
            if child is not None:
                child(value, f"{location}[{index}]", out)

    return walk
