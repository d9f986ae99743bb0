"""Every string an attacker controls in a request, with where it was and what it is.

:func:`iter_inputs` walks an :class:`~sealgate.pipeline.exchange.Exchange` and yields
``(location, raw, kind)`` triples for the detection engine. ``kind`` is one of
:data:`~sealgate.detectors.normalize.KINDS`; ``location`` names the place in the same syntax
as :attr:`~sealgate.detectors.base.Finding.location` and as the validator's skip set:

==========================  ===================================================  ==========
where                       location                                             kind
==========================  ===================================================  ==========
path segment ``i`` (0-based) ``path[i]``; the whole path too: ``path``            path
query value / name          ``query.NAME`` / ``query.NAME:name``                 value/name
cookie value / name         ``cookie.NAME`` / ``cookie.NAME:name``               value/name
header value                ``header.user-agent``                                header
JSON leaf string / key      ``body.$.items[3].name`` / ``body.$.items[3].name:key``  value/name
form field value / name     ``form.NAME`` / ``form.NAME:name``                   value/name
multipart value / name      ``multipart.NAME`` / ``multipart.NAME:name``         value/name
multipart filename          ``multipart.NAME:filename``                          filename
XML text / attribute        ``xml./root/item`` / ``xml./root/item@attr``         value
XML tag / attribute name    ``xml./root/item:tag`` / ``xml./root/item@attr:name``  name
unparsed or malformed body  ``body``                                             body
==========================  ===================================================  ==========

Which headers: every header except those that HTTP itself parses or that carry credentials
(:data:`SKIPPED_HEADERS`: ``host``, ``content-length``, ``accept*``, ``authorization``,
``connection``, caching and range headers...). So ``user-agent``, ``referer``, ``origin``,
``x-forwarded-*``, any ``x-*`` or other application header is inspected. ``cookie`` is split
into names and values; ``content-type`` contributes its parameters only (the media type is the
protocol's business). ``Accept-Charset`` in particular is skipped: browsers stopped sending it,
and its value is a charset list, not data.

Decoding: the query string and form bodies are split and percent-decoded here with
:func:`~sealgate.detectors.normalize.url_decode` (``+`` is a space), which, unlike
``urllib``'s, keeps overlong UTF-8 and Latin-1 bytes visible to detectors. Deeper layers are
the :class:`~sealgate.detectors.normalize.Value`'s job.

Binary multipart files (non-text content type) are not inspected, only their names; JSON
numbers, booleans and nulls carry no payload and are not yielded.

Opaque bodies: a body whose media type is neither textual (``text/*``, JSON, XML, form,
multipart, JavaScript, GraphQL, YAML, ``+json``/``+xml``) nor missing (an unlabelled body may be
anything, so it is inspected whole) is an upload the upstream does not read as text: an image,
``application/octet-stream``, a PDF. Running text detectors over megabytes of random bytes costs
seconds and finds "SQL" by chance, so only its first :data:`MAX_OPAQUE_BODY` bytes (64 KiB) are
inspected, and when those are binary (a NUL byte, or not UTF-8), only their printable ASCII runs
of 8 characters or more, one per line (what ``strings`` shows: a script smuggled into an upload).
The trade-off: a payload hidden past 64 KiB of an opaque upload is not seen; a route that parses
such a body as text should declare its real content type.

Example::

    >>> ex = Exchange(method="GET", path="/a", query_string=b"id=1%27")
    >>> list(iter_inputs(ex))
    [('path[0]', 'a', 'path'), ('query.id', "1'", 'value'), ('query.id:name', 'id', 'name')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

from sealgate.detectors.normalize import url_decode
from sealgate.errors import BodyParseError

if TYPE_CHECKING:
    from sealgate.pipeline.exchange import Exchange

__all__ = ["MAX_JSON_DEPTH", "MAX_OPAQUE_BODY", "SKIPPED_HEADERS", "Input", "iter_inputs", "json_location"]

Input = tuple[str, str, str]
"""``(location, raw, kind)``."""

SKIPPED_HEADERS: Final = frozenset(
    {
        "host",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "te",
        "trailer",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "accept-datetime",
        "authorization",
        "proxy-authorization",
        "cookie",  # split into names and values below
        "content-type",  # parameters only, below
        "cache-control",
        "pragma",
        "expect",
        "range",
        "request-range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "max-forwards",
        "dnt",
        "upgrade-insecure-requests",
        "priority",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "sec-fetch-user",
        "sec-ch-ua-mobile",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    }
)
"""Headers never inspected: parsed by HTTP itself, credentials, or fixed-vocabulary values."""

MAX_JSON_DEPTH: Final = 64
"""Deeper JSON is walked no further (the rest is yielded as one serialized value)."""

MAX_OPAQUE_BODY: Final = 65536
"""Bytes of an opaque (non-textual) body that are inspected; see the module docstring."""

_TEXTUAL_BODY = re.compile(
    r"^(?:text/|multipart/|application/(?:json|xml|x-www-form-urlencoded|(?:x-)?javascript|ecmascript|graphql"
    r"|(?:x-)?yaml|x-ndjson|jsonl?|csv)$|[^;]*\+(?:json|xml)$)"
)
_PRINTABLE_RUN = re.compile(rb"[\t\n\r\x20-\x7e]{8,}")
_TEXTUAL_PART = re.compile(r"^(text/|application/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def iter_inputs(exchange: Exchange) -> Iterator[Input]:
    """Yield ``(location, raw, kind)`` for every attacker-controlled string of the request."""
    yield from _path_inputs(exchange)
    yield from _pairs("query", _text(exchange.query_string))
    yield from _cookie_inputs(exchange)
    yield from _header_inputs(exchange)
    yield from _body_inputs(exchange)


def _path_inputs(exchange: Exchange) -> Iterator[Input]:
    raw = exchange.raw_path.decode("latin-1") if exchange.raw_path else exchange.path
    raw = raw.split("?", 1)[0]
    segments = [seg for seg in raw.split("/") if seg]
    for index, segment in enumerate(segments):
        yield f"path[{index}]", url_decode(segment), "path"
    # The whole path as well: an encoded payload may contain "/" (``</script>``) and so span
    # segments. One segment only: the whole path adds nothing.
    if len(segments) > 1:
        yield "path", url_decode(raw), "path"


def _split_pairs(text: str) -> Iterator[tuple[str, str]]:
    for item in text.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        yield url_decode(name.replace("+", " ")), url_decode(value.replace("+", " "))


def _pairs(area: str, text: str) -> Iterator[Input]:
    if not text:
        return
    for name, value in _split_pairs(text):
        if value:
            yield f"{area}.{name}", value, "value"
        yield f"{area}.{name}:name", name, "name"


def _cookie_inputs(exchange: Exchange) -> Iterator[Input]:
    for header_name, header_value in exchange.headers:
        if header_name != "cookie":
            continue
        for item in header_value.split(";"):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            if not sep:
                # A cookie without "=" is malformed; its text is still attacker data.
                yield f"cookie.{item}", item, "value"
                continue
            if value:
                yield f"cookie.{name}", value, "value"
            yield f"cookie.{name}:name", name, "name"


def _header_inputs(exchange: Exchange) -> Iterator[Input]:
    for name, value in exchange.headers:
        if name == "content-type":
            _, sep, params = value.partition(";")
            if sep and params.strip():
                yield "header.content-type", params.strip(), "header"
            continue
        if name in SKIPPED_HEADERS or name.startswith(":") or not value:
            continue
        yield f"header.{name}", value, "header"


def _body_inputs(exchange: Exchange) -> Iterator[Input]:
    body = exchange.body
    if not body:
        return
    media = exchange.content_type
    if media == "application/x-www-form-urlencoded":
        yield from _pairs("form", _text(body))
        return
    try:
        parsed = exchange.parsed_body()
    except BodyParseError:
        # Malformed JSON/XML/multipart: the upstream may parse it more leniently than we do.
        yield "body", _text(body), "body"
        return
    if parsed is None:
        text = _text(body) if not media or _TEXTUAL_BODY.match(media) else _opaque_text(body)
        if text:
            yield "body", text, "body"
        return
    if media == "multipart/form-data":
        yield from _multipart_inputs(parsed)
    elif isinstance(parsed, list) and media != "application/json" and not media.endswith("+json"):
        yield "body", _text(body), "body"
    elif hasattr(parsed, "tag") and hasattr(parsed, "attrib"):
        yield from _xml_inputs(parsed, "")
    else:
        yield from _json_inputs(parsed, "body.$", 0)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _opaque_text(body: bytes) -> str:
    """What is inspected of an opaque body: its first 64 KiB, or their printable runs if binary."""
    data = body[:MAX_OPAQUE_BODY]
    if b"\x00" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3 and len(data) == MAX_OPAQUE_BODY and exc.reason == "unexpected end of data":
                return data[: exc.start].decode("utf-8")  # the cut fell inside a character
    return "\n".join(run.decode("ascii") for run in _PRINTABLE_RUN.findall(data))


def json_location(parent: str, key: str | int) -> str:
    """The location of ``key`` under ``parent``: ``body.$.items[3]``, ``body.$['a b']``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if key.isidentifier() or _IDENT.match(key):
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


def _json_inputs(root: Any, root_location: str, _depth: int = 0) -> list[Input]:
    """Keys and string leaves of a JSON document, depth-first, in document order.

    Each object's keys come first, then its members' subtrees in order. Recursion is bounded by
    :data:`MAX_JSON_DEPTH` (deeper containers are yielded as one serialized value), so a deeply
    nested body cannot exhaust the C stack.
    """
    out: list[Input] = []
    if isinstance(root, str):
        out.append((root_location, root, "value"))
    elif isinstance(root, (dict, list)):
        _json_walk(root, root_location, 0, out.append)
    return out


def _json_walk(node: dict[str, Any] | list[Any], location: str, depth: int,
               append: Callable[[Input], None]) -> None:
    """Append the inputs of container ``node`` (at ``location``, nesting ``depth``)."""
    if depth >= MAX_JSON_DEPTH:
        append((location, repr(node), "value"))
        return
    depth += 1
    if type(node) is dict or isinstance(node, dict):
        children: list[tuple[Any, str]] = []
        for key, child in node.items():
            child_location = f"{location}.{key}" if key.isidentifier() else json_location(location, key)
            append((child_location + ":key", key, "name"))
            if isinstance(child, (str, dict, list)):
                children.append((child, child_location))
        for child, child_location in children:
            if isinstance(child, str):
                append((child_location, child, "value"))
            else:
                _json_walk(child, child_location, depth, append)
        return
    for index, child in enumerate(node):
        if isinstance(child, str):
            append((f"{location}[{index}]", child, "value"))
        elif isinstance(child, (dict, list)):
            _json_walk(child, f"{location}[{index}]", depth, append)


def _multipart_inputs(parts: list[Any]) -> Iterator[Input]:
    for part in parts:
        name = part.name
        yield f"multipart.{name}:name", name, "name"
        if part.filename is not None:
            yield f"multipart.{name}:filename", part.filename, "filename"
            if not _TEXTUAL_PART.match(part.content_type.lower()):
                continue
        if part.data:
            yield f"multipart.{name}", _text(part.data), "value"


def _xml_inputs(element: Any, parent: str) -> Iterator[Input]:
    stack: list[tuple[Any, str, int]] = [(element, parent, 0)]
    while stack:
        node, base, depth = stack.pop()
        tag = node.tag if isinstance(node.tag, str) else ""
        location = f"{base}/{tag}"
        yield f"xml.{location}:tag", tag, "name"
        for attr_name, attr_value in node.attrib.items():
            yield f"xml.{location}@{attr_name}:name", attr_name, "name"
            if attr_value:
                yield f"xml.{location}@{attr_name}", attr_value, "value"
        if node.text and node.text.strip():
            yield f"xml.{location}", node.text, "value"
        if node.tail and node.tail.strip():
            yield f"xml.{base}", node.tail, "value"
        if depth < MAX_JSON_DEPTH:
            stack.extend((child, location, depth + 1) for child in reversed(list(node)))
