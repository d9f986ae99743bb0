"""OpenAPI parameter serialization: style/explode parsing and string → declared type coercion.

Every parameter arrives as text. Its ``style`` and ``explode`` (OpenAPI 3, "Style Values") say how
arrays and objects are spelled; its schema's ``type`` says what each piece must become before
schema validation:

=================  ==========  ===================  ===================================
style              in          array (explode f/t)  object (explode false / true)
=================  ==========  ===================  ===================================
form (default q,c) query,      ``id=3,4,5`` /        ``id=role,admin,name,Al`` /
                   cookie      ``id=3&id=4&id=5``    ``role=admin&name=Al``
spaceDelimited     query       ``id=3%204%205``      ``id=role%20admin``
pipeDelimited      query       ``id=3|4|5``          ``id=role|admin``
deepObject         query       —                     ``id[role]=admin&id[name]=Al``
simple (default    path,       ``3,4,5``             ``role,admin`` / ``role=admin,name=Al``
p, h)              header
label              path        ``.3,4,5`` / ``.3.4.5``  ``.role,admin`` / ``.role=admin.name=Al``
matrix             path        ``;id=3,4`` /         ``;id=role,admin`` /
                               ``;id=3;id=4``        ``;role=admin;name=Al``
=================  ==========  ===================  ===================================

Coercion is strict: integers are ASCII ``-?[0-9]+`` (no ``+``, ``_``, spaces or Unicode digits,
which Python's ``int()`` would accept), numbers are finite decimals, booleans are ``true`` or
``false``. A value that does not coerce is a violation (``1; DROP TABLE x`` is not an integer).

Example::

    >>> make_coercer({"type": "integer"})("42")
    42
    >>> split_array("3|4|5", "pipeDelimited", False)
    ['3', '4', '5']
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from sealgate.validation.schema import schema_types
from sealgate.validation.typed import is_typed
from sealgate.validation.violations import Run, Violation, excerpt, json_location, json_path_location

__all__ = [
    "MISSING",
    "CoerceError",
    "Coercer",
    "ParamSpec",
    "build_param_spec",
    "collect_pairs",
    "cookie_value",
    "header_value",
    "keep_value",
    "make_coercer",
    "pairs_to_object",
    "param_kind",
    "parse_path_value",
    "path_value",
    "split_array",
]

Coercer = Callable[[str], Any]
"""Turns one text piece into the value the schema expects; raises :class:`CoerceError`."""

_INT: Final = re.compile(r"-?[0-9]{1,40}", re.ASCII)
_NUMBER: Final = re.compile(r"-?(?:[0-9]{1,40}(?:\.[0-9]{1,40})?|\.[0-9]{1,40})(?:[eE][-+]?[0-9]{1,4})?", re.ASCII)
MISSING: Final[Any] = object()
"""A parameter that is absent from the request."""
_FAILED: Final[Any] = object()
_DELIMITERS: Final = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


class CoerceError(ValueError):
    """A text value is not of the declared type; ``expected`` names it (``integer``)."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _to_int(text: str) -> int | None:
    return int(text) if _INT.fullmatch(text) else None


def _to_number(text: str) -> int | float | None:
    if _INT.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else None
    return None


def make_coercer(schema: Any) -> Coercer:
    """A coercer for a primitive value of ``schema`` (translated), tried in a fixed, safe order."""
    types = schema_types(schema)
    if not types or types == {"string"}:
        return _identity
    keeps_string = "string" in types or "object" in types or "array" in types
    order = [t for t in ("integer", "number", "boolean") if t in types]
    nullable = "null" in types
    expected = " or ".join(sorted(types))

    def coerce(text: str) -> Any:
        for kind in order:
            if kind == "integer":
                as_int = _to_int(text)
                if as_int is not None:
                    return as_int
            elif kind == "number":
                as_number = _to_number(text)
                if as_number is not None:
                    return as_number
            elif text in ("true", "false"):
                return text == "true"
        if keeps_string:
            return text
        if nullable and text in ("", "null"):
            return None
        raise CoerceError(expected)

    return coerce


def _identity(text: str) -> str:
    return text


def split_array(text: str, style: str, explode: bool) -> list[str]:
    """The items of an array serialized in one value (``explode: false`` or header/path styles)."""
    if text == "":
        return []
    return text.split(_DELIMITERS.get(style, ","))


def pairs_to_object(items: list[str]) -> dict[str, str] | None:
    """``[k1, v1, k2, v2]`` → ``{k1: v1, k2: v2}``; None for an odd count."""
    if len(items) % 2:
        return None
    return {items[i]: items[i + 1] for i in range(0, len(items), 2)}


def _key_values(items: list[str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            return None
        out[key] = value
    return out


def parse_path_value(text: str, name: str, style: str, explode: bool, kind: str) -> Any:
    """Parse a path (or header: ``simple``) value into a string, a list of strings or a dict.

    ``kind`` is ``primitive``, ``array`` or ``object``. Returns None when the value does not
    follow the style (a label value without its leading ``.``, a matrix value without ``;name=``).
    """
    if style == "label":
        if not text.startswith("."):
            return None
        body = text[1:]
        if kind == "primitive":
            return body
        parts = body.split("." if explode else ",") if body else []
        if kind == "array":
            return parts
        return _key_values(parts) if explode else pairs_to_object(parts)
    if style == "matrix":
        if not text.startswith(";"):
            return None
        segments = text[1:].split(";")
        if kind == "object" and explode:
            return _key_values(segments)
        prefix = f"{name}="
        if kind == "array" and explode:
            if not all(s.startswith(prefix) for s in segments):
                return None
            return [s[len(prefix):] for s in segments]
        if len(segments) != 1 or not (segments[0].startswith(prefix) or segments[0] == name):
            return None
        body = segments[0][len(prefix):] if segments[0].startswith(prefix) else ""
        if kind == "primitive":
            return body
        parts = body.split(",") if body else []
        return parts if kind == "array" else pairs_to_object(parts)
    # simple
    if kind == "primitive":
        return text
    parts = text.split(",") if text else []
    if kind == "array":
        return parts
    return _key_values(parts) if explode else pairs_to_object(parts)


@dataclass(slots=True, eq=False)
class ParamSpec:
    """A parameter (or a form field) compiled: how to find, parse, coerce and name it."""

    name: str
    where: str
    location: str
    required: bool = False
    kind: str = "primitive"
    """``primitive``, ``array``, ``object`` or ``json`` (a parameter with JSON ``content``)."""
    style: str = "form"
    explode: bool = True
    coerce: Coercer = str
    """Primitive values; array items."""
    props: dict[str, Coercer] = field(default_factory=dict)
    extra: Coercer = str
    typed: bool = False
    typed_props: frozenset[str] = frozenset()
    claims_all: bool = False
    aliases: tuple[str, ...] = ()
    """More names of the same value for the typed set (``path[2]``, ``form.NAME``)."""

    def prop_location(self, prop: str) -> str:
        """Where an object property of this parameter is named."""
        if self.style == "deepObject":
            return f"{self.location}[{prop}]"
        if self.kind == "object" and self.explode and self.style == "form" and self.where == "query":
            return f"query.{prop}"
        return json_location(self.location, prop)

    def locate(self, rest: Sequence[Any]) -> str:
        """The location of ``rest`` (an instance path below this parameter's value)."""
        if self.kind == "object" and rest:
            return json_path_location(self.prop_location(str(rest[0])), rest[1:])
        return json_path_location(self.location, rest)


# -- per-request helpers ----------------------------------------------------------------------
def keep_value(
    spec: ParamSpec, value: Any, values: dict[str, Any], present: list[tuple[ParamSpec, Any]], run: Run
) -> None:
    """Store a parameter's value (or report it missing when required); failed values are dropped."""
    if value is MISSING:
        if spec.required:
            run.failed.add(spec.location)
            run.add(Violation(spec.location, "is required", "required"))
    elif value is not _FAILED:
        values[spec.name] = value
        present.append((spec, value))


def _fail(run: Run, location: str, message: str, keyword: str, value: Any = None) -> Any:
    run.failed.add(location)
    run.add(Violation(location, message, keyword, None if value is None else excerpt(value)))
    return _FAILED


def _coerce_one(coerce: Coercer, text: str, location: str, run: Run) -> Any:
    try:
        return coerce(text)
    except CoerceError as exc:
        return _fail(run, location, f"expected {exc.expected}", "type", text)


def _coerce_items(spec: ParamSpec, items: list[str], run: Run) -> Any:
    out: list[Any] = []
    ok = True
    coerce = spec.coerce
    for index, item in enumerate(items):
        value = _coerce_one(coerce, item, f"{spec.location}[{index}]", run)
        if value is _FAILED:
            ok = False
            value = item  # kept as text, so the schema still reports the other items' problems
        out.append(value)
    if not ok:
        run.failed.add(spec.location)
    return out


def _coerce_props(spec: ParamSpec, raw: dict[str, str] | None, run: Run) -> Any:
    if raw is None:
        return _fail(run, spec.location, f"is not a valid {spec.style} object (name,value pairs)", "style")
    out: dict[str, Any] = {}
    ok = True
    for prop, text in raw.items():
        value = _coerce_one(spec.props.get(prop, spec.extra), text, spec.prop_location(prop), run)
        if value is _FAILED:
            ok = False
            value = text
        out[prop] = value
    if not ok:
        run.failed.add(spec.location)
    return out


def _from_text(spec: ParamSpec, text: str, run: Run) -> Any:
    kind = spec.kind
    if kind == "primitive":
        return _coerce_one(spec.coerce, text, spec.location, run)
    if kind == "json":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return _fail(run, spec.location, "is not valid JSON", "syntax", text)
    if kind == "array":
        return _coerce_items(spec, split_array(text, spec.style, False), run)
    return _coerce_props(spec, pairs_to_object(split_array(text, spec.style, False)), run)


def collect_pairs(
    specs: Sequence[ParamSpec],
    multi: dict[str, list[str]],
    run: Run,
    consumed: set[str],
    present: list[tuple[ParamSpec, Any]],
    check_required: bool = True,
) -> dict[str, Any]:
    """Read ``specs`` from name → values pairs (query or form): by style, with coercion.

    Names read are added to ``consumed``; valid values go into the returned dict (by parameter
    name) and ``present``; problems go into ``run``. A repeated single-valued name is a
    violation: we would check one value and the upstream might use another.
    """
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "object" and spec.style == "deepObject":
            value = _deep_object(spec, multi, run, consumed)
        elif spec.kind == "object" and spec.explode and spec.style == "form":
            value = _exploded_object(spec, multi, run, consumed, specs)
        else:
            values = multi.get(spec.name)
            if values is None:
                value = MISSING
            else:
                consumed.add(spec.name)
                if spec.kind == "array" and spec.explode:
                    value = _coerce_items(spec, values, run)
                elif len(values) > 1:
                    value = _fail(run, spec.location, f"must appear once (appears {len(values)} times)", "repeated",
                                  values[-1])
                else:
                    value = _from_text(spec, values[0], run)
        if value is MISSING and not check_required:
            continue
        keep_value(spec, value, out, present, run)
    return out


def _deep_object(spec: ParamSpec, multi: dict[str, list[str]], run: Run, consumed: set[str]) -> Any:
    prefix = spec.name + "["
    raw: dict[str, str] = {}
    bad = False
    for key, values in multi.items():
        if not (key.startswith(prefix) and key.endswith("]")):
            continue
        consumed.add(key)
        prop = key[len(prefix):-1]
        if "[" in prop or "]" in prop:
            bad = True
            _fail(run, f"{spec.where}.{key}", "nested deepObject keys are not supported", "style", values[0])
        elif len(values) > 1:
            bad = True
            _fail(run, spec.prop_location(prop), f"must appear once (appears {len(values)} times)", "repeated",
                  values[-1])
        else:
            raw[prop] = values[0]
    if bad:
        run.failed.add(spec.location)
        return _FAILED
    if not raw:
        return MISSING
    return _coerce_props(spec, raw, run)


def _exploded_object(
    spec: ParamSpec, multi: dict[str, list[str]], run: Run, consumed: set[str], specs: Sequence[ParamSpec]
) -> Any:
    raw: dict[str, str] = {}
    names: Iterable[str] = spec.props
    if spec.claims_all:
        reserved = {s.name for s in specs}
        names = [n for n in multi if n not in consumed and (n in spec.props or n not in reserved)]
    for name in names:
        values = multi.get(name)
        if values is None:
            continue
        consumed.add(name)
        if len(values) > 1:
            _fail(run, spec.prop_location(name), f"must appear once (appears {len(values)} times)", "repeated",
                  values[-1])
            run.failed.add(spec.location)
            return _FAILED
        raw[name] = values[0]
    if not raw:
        return MISSING
    return _coerce_props(spec, raw, run)


def path_value(spec: ParamSpec, text: str | None, run: Run) -> Any:
    """A path parameter's value parsed by its style (simple, label, matrix) and coerced."""
    if text is None:
        return MISSING
    if spec.kind == "primitive" and spec.style == "simple":
        return _coerce_one(spec.coerce, text, spec.location, run)
    return _structured(spec, text, run)


def _structured(spec: ParamSpec, text: str, run: Run) -> Any:
    if spec.kind == "json":
        return _from_text(spec, text, run)
    parsed = parse_path_value(text, spec.name, spec.style, spec.explode, spec.kind)
    if parsed is None:
        return _fail(run, spec.location, f"does not follow the {spec.style} style", "style", text)
    if spec.kind == "primitive":
        return _coerce_one(spec.coerce, parsed, spec.location, run)
    if spec.kind == "array":
        items = [item.strip() for item in parsed] if spec.where == "header" else parsed
        return _coerce_items(spec, items, run)
    return _coerce_props(spec, parsed, run)


def header_value(spec: ParamSpec, text: str | None, run: Run) -> Any:
    """A header parameter's value (simple style; surrounding spaces ignored) coerced."""
    if text is None:
        return MISSING
    if spec.kind == "primitive":
        return _coerce_one(spec.coerce, text.strip(), spec.location, run)
    return _structured(spec, text, run)


def cookie_value(spec: ParamSpec, text: str | None, run: Run) -> Any:
    """A cookie parameter's value (form style; arrays and objects as ``explode: false``) coerced."""
    if text is None:
        return MISSING
    if spec.kind == "primitive":
        return _coerce_one(spec.coerce, text, spec.location, run)
    return _from_text(spec, text, run)  # form, explode false: "3,4,5" / "role,admin"


# -- compilation ------------------------------------------------------------------------------
def param_kind(schema: Any) -> str:
    """``array``, ``object`` or ``primitive``: how a parameter of ``schema`` is serialized."""
    types = schema_types(schema) - {"null"}
    if types == {"array"}:
        return "array"
    if types == {"object"}:
        return "object"
    return "primitive"


def build_param_spec(
    name: str,
    where: str,
    location: str,
    schema: Any,
    *,
    required: bool,
    style: str,
    explode: bool,
    json_content: bool,
    formats: bool,
    aliases: tuple[str, ...] = (),
) -> ParamSpec:
    """Compile one parameter (or form field) of translated ``schema`` into a :class:`ParamSpec`."""
    kind = "json" if json_content else param_kind(schema)
    spec = ParamSpec(name, where, location, required, kind, style, explode, aliases=aliases)
    if kind == "primitive":
        spec.coerce = make_coercer(schema)
        spec.typed = is_typed(schema, formats)
    elif kind == "json":
        spec.typed = is_typed(schema, formats)
    elif kind == "array":
        items = schema.get("items", {}) if isinstance(schema, dict) else {}
        spec.coerce = make_coercer(items)
        spec.typed = is_typed(items, formats)
    else:
        props = schema.get("properties") or {}
        spec.props = {p: make_coercer(s) for p, s in props.items()}
        extra = schema.get("additionalProperties", True)
        spec.extra = make_coercer(extra) if isinstance(extra, dict) else str
        spec.typed_props = frozenset(p for p, s in props.items() if is_typed(s, formats))
        spec.claims_all = extra is not False
        # Spread over several names (deepObject, exploded form): each property is typed on its own.
        spread = style == "deepObject" or (explode and style == "form")
        spec.typed = not spread and extra is False and bool(props) and len(spec.typed_props) == len(props)
    return spec
