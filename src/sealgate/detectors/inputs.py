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
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from sealgate.detectors.normalize import url_decode
from sealgate.errors import BodyParseError

if TYPE_CHECKING:
    from sealgate.pipeline.exchange import Exchange

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_OPAQUE_BODY",
    "SKIPPED_HEADERS",
    "Input",
    "Inputs",
    "collect_inputs",
    "iter_inputs",
    "json_location",
]

Input = tuple[str, str, str]
"""``(location, raw, kind)``."""
Add = Callable[[Input], None]
"""Appends one input: ``add((location, raw, kind))``."""

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
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Inputs:
    """The inputs of one request as parallel lists, with locations built on demand.

    ``texts[i]`` and ``kinds[i]`` are input ``i``'s raw text and kind, and :meth:`location`
    names it. Why not a list of triples: the detection engine prefilters all texts at once and
    needs the location of only the few values a detector then runs on, and the members of a
    JSON body are most of a request's inputs. So a JSON body's locations are not built while
    walking it: :class:`_JsonTree` remembers where each string came from and builds a location
    when asked. Every other input (path, query, cookies, headers, forms, multipart, XML) is
    stored with its location.
    """

    __slots__ = ("_json", "_locations", "kinds", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.kinds: list[str] = []
        self._locations: list[str] = []  # of the inputs before the JSON body's (all of them without one)
        self._json: _JsonTree | None = None

    @classmethod
    def from_triples(cls, triples: Iterable[Input]) -> Inputs:
        """Inputs from ``(location, raw, kind)`` triples (each stored with its location)."""
        inputs = cls()
        items = list(triples)
        if items:
            locations, texts, kinds = zip(*items, strict=True)
            inputs._locations = list(locations)
            inputs.texts = list(texts)
            inputs.kinds = list(kinds)
        return inputs

    def add(self, location: str, raw: str, kind: str) -> None:
        """Append one input (before any JSON body: a request has one body, collected last)."""
        if self._json is not None:
            raise RuntimeError("inputs cannot follow a JSON body")
        self.texts.append(raw)
        self.kinds.append(kind)
        self._locations.append(location)

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[Input]:
        for index, raw in enumerate(self.texts):
            yield self.location(index), raw, self.kinds[index]

    @property
    def known(self) -> list[str]:
        """The stored locations: of every input before a JSON body's members (do not modify)."""
        return self._locations

    def location(self, index: int) -> str:
        """Where input ``index`` is, in the syntax of the module docstring."""
        eager = len(self._locations)
        if index < eager:
            return self._locations[index]
        if self._json is None:
            raise IndexError(index)
        return self._json.location(index - eager)

    def add_json(self, root: Any, root_location: str) -> None:
        """Append the keys (kind ``name``) and string leaves (kind ``value``) of a JSON document."""
        if isinstance(root, str):
            self.add(root_location, root, "value")
        elif isinstance(root, (dict, list)):
            tree = _JsonTree(root, root_location)
            self._json = tree
            self.texts += tree.keys
            self.texts += tree.values
            self.kinds += ["name"] * len(tree.keys)
            self.kinds += ["value"] * len(tree.values)


def iter_inputs(exchange: Exchange) -> Iterator[Input]:
    """Yield ``(location, raw, kind)`` for every attacker-controlled string of the request."""
    return iter(collect_inputs(exchange))


def collect_inputs(exchange: Exchange, skip: Collection[str] = ()) -> Inputs:
    """Every attacker-controlled string of the request, as :class:`Inputs`.

    ``skip``: locations to leave out (values that validation typed, text the spec fixes). Only
    the inputs stored with their location are filtered here; a JSON body's members are not (their
    locations are built on demand), the engine skips those after the prefilter. ``"path"`` (the
    whole path) in ``skip`` leaves out its segments too: validation skips the whole path only when
    each segment is a literal of the route or a valid typed parameter.
    """
    # Triples first, transposed once (one tuple and one append per input, instead of three
    # method calls); then a JSON body's strings, whose locations are built on demand.
    items: list[Input] = []
    add = items.append
    if "path" not in skip:
        _path_inputs(exchange, add)
    if exchange.query_string:
        _pairs("query", _text(exchange.query_string), add)
    _header_inputs(exchange, add)
    json_root = _body_inputs(exchange, add)
    if skip:
        items = [item for item in items if item[0] not in skip]
    inputs = Inputs.from_triples(items)
    if json_root is not _NO_JSON:
        inputs.add_json(json_root, "body.$")
    return inputs


def _path_inputs(exchange: Exchange, add: Add) -> None:
    raw = exchange.raw_path.decode("latin-1") if exchange.raw_path else exchange.path
    raw = raw.split("?", 1)[0]
    segments = [seg for seg in raw.split("/") if seg]
    for index, segment in enumerate(segments):
        add((f"path[{index}]", url_decode(segment) if "%" in segment else segment, "path"))
    # The whole path as well: an encoded payload may contain "/" (``</script>``) and so span
    # segments. One segment only: the whole path adds nothing.
    if len(segments) > 1:
        add(("path", url_decode(raw), "path"))


def _pairs(area: str, text: str, add: Add) -> None:
    for item in text.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        # Most names and values need no decoding; url_decode itself returns early without "%".
        if "+" in name or "%" in name:
            name = url_decode(name.replace("+", " "))
        if value:
            if "+" in value or "%" in value:
                value = url_decode(value.replace("+", " "))
            add((f"{area}.{name}", value, "value"))
        add((f"{area}.{name}:name", name, "name"))


def _header_inputs(exchange: Exchange, add: Add) -> None:
    cookies: list[str] = []
    for name, value in exchange.headers:
        if name in SKIPPED_HEADERS:
            if name == "cookie":
                cookies.append(value)
            elif name == "content-type":
                _, sep, params = value.partition(";")
                if sep and params.strip():
                    add(("header.content-type", params.strip(), "header"))
            continue
        if name.startswith(":") or not value:
            continue
        add((f"header.{name}", value, "header"))
    for header_value in cookies:
        _cookie_inputs(header_value, add)


def _cookie_inputs(header_value: str, add: Add) -> None:
    for item in header_value.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep:
            # A cookie without "=" is malformed; its text is still attacker data.
            add((f"cookie.{item}", item, "value"))
            continue
        if value:
            add((f"cookie.{name}", value, "value"))
        add((f"cookie.{name}:name", name, "name"))


_NO_JSON: Final[Any] = object()
"""What :func:`_body_inputs` returns for a body that is not a JSON document."""


def _body_inputs(exchange: Exchange, add: Add) -> Any:
    """Add the body's inputs; a JSON document is returned instead (else :data:`_NO_JSON`)."""
    body = exchange.body
    if not body:
        return _NO_JSON
    media = exchange.content_type
    if media == "application/x-www-form-urlencoded":
        _pairs("form", _text(body), add)
        return _NO_JSON
    try:
        parsed = exchange.parsed_body()
    except BodyParseError:
        # Malformed JSON/XML/multipart: the upstream may parse it more leniently than we do.
        add(("body", _text(body), "body"))
        return _NO_JSON
    if parsed is None:
        text = _text(body) if not media or _TEXTUAL_BODY.match(media) else _opaque_text(body)
        if text:
            add(("body", text, "body"))
        return _NO_JSON
    if media == "application/json" or media.endswith("+json"):
        return parsed
    if media == "multipart/form-data":
        for item in _multipart_inputs(parsed):
            add(item)
    elif isinstance(parsed, list):
        add(("body", _text(body), "body"))
    elif hasattr(parsed, "tag") and hasattr(parsed, "attrib"):
        for item in _xml_inputs(parsed, ""):
            add(item)
    else:
        return parsed
    return _NO_JSON


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


class _JsonTree:
    """The keys and string leaves of a JSON document, and where each came from.

    One walk (an explicit stack, bounded by :data:`MAX_JSON_DEPTH`: a deeper container becomes
    one value, its ``repr``, so a deeply nested body cannot exhaust the C stack) visits every
    container once and appends its keys to :attr:`keys` and its string members to
    :attr:`values`, so each container's keys and values are two contiguous runs. Per container
    it records the run starts and its parent, which is all :meth:`location` needs: a bisection
    finds the container of a string, and a scan of that one container its member. Building every
    location while walking costs three times the walk, for locations that are almost never read.
    """

    __slots__ = ("_containers", "_key_starts", "_locations", "_member_lists", "_value_starts", "keys", "values")

    def __init__(self, root: dict[str, Any] | list[Any], root_location: str) -> None:
        keys: list[str] = []
        values: list[str] = []
        # (container, parent index, member of the parent holding it, serialized whole?)
        containers: list[tuple[Any, int, str | int, bool]] = []
        key_starts: list[int] = []
        value_starts: list[int] = []
        stack: list[tuple[Any, int, str | int, int]] = [(root, -1, "", 0)]
        add_value = values.append
        push = stack.append
        while stack:
            node, parent, member, depth = stack.pop()
            index = len(containers)
            key_starts.append(len(keys))
            value_starts.append(len(values))
            if depth >= MAX_JSON_DEPTH:
                containers.append((node, parent, member, True))
                add_value(repr(node))
                continue
            containers.append((node, parent, member, False))
            depth += 1
            # ``type() is`` first (the exact types orjson makes): half the cost of isinstance();
            # isinstance() after it keeps subclasses working.
            members = node.items() if isinstance(node, dict) else enumerate(node)
            if isinstance(node, dict):
                keys += node
            for key, child in members:
                kind = type(child)
                if kind is str:
                    add_value(child)
                elif kind is dict or kind is list:
                    push((child, index, key, depth))
                elif isinstance(child, str):
                    add_value(child)
                elif isinstance(child, (dict, list)):
                    push((child, index, key, depth))
        self.keys = keys
        self.values = values
        self._containers = containers
        self._key_starts = key_starts
        self._value_starts = value_starts
        self._locations: dict[int, str] = {0: root_location}
        self._member_lists: dict[tuple[int, bool], list[str | int]] = {}

    def location(self, index: int) -> str:
        """The location of string ``index`` (the keys first, then the values)."""
        if index < len(self.keys):
            owner = bisect_right(self._key_starts, index) - 1
            key = self._members(owner, keys=True)[index - self._key_starts[owner]]
            return json_location(self._container_location(owner), key) + ":key"
        index -= len(self.keys)
        owner = bisect_right(self._value_starts, index) - 1
        if self._containers[owner][3]:
            return self._container_location(owner)  # serialized whole (too deep)
        member = self._members(owner, keys=False)[index - self._value_starts[owner]]
        return json_location(self._container_location(owner), member)

    def _members(self, owner: int, keys: bool) -> list[str | int]:
        """Container ``owner``'s keys, or the members holding its strings, in walk order.

        Built once per container and kept: locating many strings of one large array costs one
        pass over it, not one pass per string.
        """
        cached = self._member_lists.get((owner, keys))
        if cached is None:
            node = self._containers[owner][0]
            if keys:
                cached = list(node)
            else:
                pairs = node.items() if isinstance(node, dict) else enumerate(node)
                cached = [member for member, child in pairs if isinstance(child, str)]
            self._member_lists[(owner, keys)] = cached
        return cached

    def _container_location(self, index: int) -> str:
        location = self._locations.get(index)
        if location is None:
            _, parent, member, _ = self._containers[index]
            location = json_location(self._container_location(parent), member)
            self._locations[index] = location
        return location


def _multipart_inputs(parts: list[Any]) -> Iterator[Input]:
    for part in parts:
        name = part.name
        yield f"multipart.{name}:name", name, "name"
        if part.filename is not None:
            yield f"multipart.{name}:filename", part.filename, "filename"
            # An uploaded file is inspected when it is text, by the same rule as a whole body.
            if not _TEXTUAL_BODY.match(part.content_type.partition(";")[0].strip().lower()):
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
