"""XML bodies turned into instances a JSON Schema can check (best effort).

OpenAPI describes XML with the same schemas as JSON plus ``xml`` hints (``name``, ``attribute``,
``wrapped``). :func:`xml_to_instance` reads a parsed (defusedxml) element guided by the schema:

- an object schema reads child elements by property name (or ``xml.name``) and attributes for
  properties with ``xml.attribute: true``; unknown child elements become fields of that name and
  unknown attributes fields named ``@attr``, so strict mode rejects them like unknown JSON fields;
  non-blank text directly inside an object element becomes ``#text`` (also rejected when strict);
- an array property reads repeated elements (``<tag>1</tag><tag>2</tag>``) or, with
  ``xml.wrapped: true``, the children of one wrapper element;
- a leaf's text is coerced to the declared type like a query parameter (``<qty>3</qty>`` → 3);
  a repeated non-array element becomes a list, which then fails its type check.

Covered: required elements/attributes, types, formats, patterns, lengths, enums, ranges, array
sizes, unknown elements and attributes, depth. Not covered: namespaces (prefixes are ignored,
only local names are compared), ``xml.prefix``/``xml.namespace``, mixed content order, and the
root element's name unless the schema's ``xml.name`` declares it.

Example::

    >>> from defusedxml.ElementTree import fromstring
    >>> schema = {"type": "object", "properties": {"qty": {"type": "integer"}}}
    >>> xml_to_instance(fromstring(b"<order><qty>3</qty></order>"), schema, lambda s: s)
    {'qty': 3}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sealgate.validation.params import CoerceError, make_coercer
from sealgate.validation.schema import schema_types

__all__ = ["Resolver", "local_name", "xml_depth_exceeds", "xml_to_instance"]

Resolver = Callable[[Any], Any]
"""Follows a kept ``$ref`` to its (raw) target schema; returns other schemas unchanged."""


def local_name(tag: Any) -> str:
    """An element or attribute name without its ``{namespace}``."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1] if text.startswith("{") else text


def xml_depth_exceeds(element: Any, limit: int) -> bool:
    """True when the element tree nests deeper than ``limit`` (root = 1); iterative, stops early."""
    stack: list[tuple[Any, int]] = [(element, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node)
    return False


def _xml_hints(schema: Any) -> dict[str, Any]:
    hints = schema.get("xml") if isinstance(schema, dict) else None
    return hints if isinstance(hints, dict) else {}


def xml_to_instance(element: Any, schema: Any, resolve: Resolver) -> Any:
    """Convert ``element`` into the JSON-like value ``schema`` describes (see the module doc)."""
    schema = resolve(schema)
    types = schema_types(schema)
    if "object" in types or (not types and isinstance(schema, dict) and "properties" in schema):
        return _xml_object(element, schema, resolve)
    if "array" in types:
        items = resolve(schema.get("items", {}))
        return [xml_to_instance(child, items, resolve) for child in element]
    if len(element):
        return {local_name(child.tag): child.text or "" for child in element}
    return _leaf(element.text or "", schema)


def _leaf(text: str, schema: Any) -> Any:
    types = schema_types(schema)
    if types and types != {"string"}:
        text = text.strip()
    try:
        return make_coercer(schema)(text)
    except CoerceError:
        return text


def _xml_object(element: Any, schema: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
    props: dict[str, Any] = {name: resolve(sub) for name, sub in (schema.get("properties") or {}).items()}
    attributes: dict[str, str] = {}
    elements: dict[str, str] = {}
    for name, sub in props.items():
        hints = _xml_hints(sub)
        xml_name = str(hints.get("name", name))
        if hints.get("attribute") is True:
            attributes[xml_name] = name
            continue
        elements[xml_name] = name
        if "array" in schema_types(sub) and hints.get("wrapped") is not True:
            item_name = _xml_hints(resolve(sub.get("items", {}))).get("name")
            if isinstance(item_name, str):
                elements[item_name] = name
    out: dict[str, Any] = {}
    repeated: set[str] = set()
    for raw_name, value in element.attrib.items():
        attr = local_name(raw_name)
        prop = attributes.get(attr)
        if prop is None:
            out[f"@{attr}"] = value
        else:
            out[prop] = _leaf(value, props[prop])
    for child in element:
        tag = local_name(child.tag)
        prop_name = elements.get(tag)
        if prop_name is None:
            out[tag] = xml_to_instance(child, {}, resolve) if len(child) else child.text or ""
            continue
        sub = props[prop_name]
        if "array" in schema_types(sub):
            items = resolve(sub.get("items", {}))
            if _xml_hints(sub).get("wrapped") is True:
                out[prop_name] = [xml_to_instance(item, items, resolve) for item in child]
            else:
                out.setdefault(prop_name, []).append(xml_to_instance(child, items, resolve))
            continue
        value = xml_to_instance(child, sub, resolve)
        if prop_name in repeated:
            out[prop_name].append(value)
        elif prop_name in out:
            out[prop_name] = [out[prop_name], value]  # a list where one value belongs: fails the type check
            repeated.add(prop_name)
        else:
            out[prop_name] = value
    text = (element.text or "").strip()
    if text:
        out["#text"] = text
    return out
