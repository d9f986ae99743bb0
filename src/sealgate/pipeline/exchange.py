"""The Exchange: everything sealgate knows about one request and, later, its response.

Parse once, decode once: query, cookies and the body's parsed forms are computed on first use
and cached, so protections and detectors share them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import orjson

from sealgate.errors import BodyParseError, BodyTooLarge, UnsupportedContentEncoding
from sealgate.pipeline.route import CATCH_ALL, Route
from sealgate.pipeline.verdict import Verdict

__all__ = ["BodyReader", "Exchange", "Identity", "MultipartPart", "Response"]

BodyReader = Callable[[], Awaitable[tuple[bytes, bool]]]
"""Returns the next body chunk and whether more follows; raises ClientDisconnected."""

_NOT_PARSED: Any = object()

# python-multipart logs a warning for every malformed part it meets; a hostile client can send
# thousands. The parse error reaches the client as a 400 problem instead.
logging.getLogger("python_multipart.multipart").setLevel(logging.ERROR)


@dataclass(slots=True)
class Identity:
    """Who is calling: set by an authentication protection, shown in the audit log."""

    key_id: str = ""
    subject: str = ""
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()


@dataclass(slots=True)
class MultipartPart:
    """One part of a ``multipart/form-data`` body."""

    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(slots=True)
class Response:
    """A response on its way to the client: from the upstream, the wrapped app, or a verdict.

    Exactly one of ``body`` (buffered) and ``stream`` (chunks not yet read) is in use; the
    pipeline buffers the stream into ``body`` only when a protection needs the whole body.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    """Releases upstream resources when the response is dropped or fully sent."""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    async def read_all(self, limit: int) -> bytes:
        """Buffer the streamed body into ``body`` (at most ``limit`` bytes) and return it."""
        if self.stream is None:
            return self.body
        chunks: list[bytes] = [self.body] if self.body else []
        size = len(self.body)
        async for chunk in self.stream:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"the upstream response is larger than {limit} bytes")
            chunks.append(chunk)
        self.stream = None
        self.body = b"".join(chunks)
        return self.body


@dataclass(slots=True, eq=False)
class Exchange:
    """Per-request state shared by every protection.

    Header names are lower-case; values are decoded as Latin-1 (HTTP's byte-preserving
    choice). ``path`` is percent-decoded, ``raw_path`` is exactly what the client sent.
    """

    method: str
    path: str
    raw_path: bytes = b""
    query_string: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    client_ip: str = ""
    client_port: int = 0
    scheme: str = "http"
    http_version: str = "1.1"
    request_id: str = ""
    started: float = field(default_factory=time.perf_counter)
    received_at: float = field(default_factory=time.time)
    body: bytes | None = None
    """The whole request body once read (None before, or when it streams straight through)."""
    route: Route = CATCH_ALL
    path_params: dict[str, str] = field(default_factory=dict)
    identity: Identity | None = None
    findings: list[Any] = field(default_factory=list)
    """Findings of detectors and validators (objects with ``to_log()``), for the audit event."""
    verdict: Verdict | None = None
    response: Response | None = None
    upstream_headers: list[tuple[str, str]] = field(default_factory=list)
    """Extra headers protections add to the forwarded request (e.g. injected credentials)."""
    upstream_ms: float | None = None
    tunneled: bool = False
    """True when the request arrived encrypted through the OHTTP tunnel."""
    state: dict[str, Any] = field(default_factory=dict)
    """Scratch space for protections, keyed by protection name."""
    audit: dict[str, Any] = field(default_factory=dict)
    """Extra fields protections add to the audit event."""
    _body_reader: BodyReader | None = None
    _header_map: dict[str, str] | None = None
    _query: list[tuple[str, str]] | None = None
    _cookies: dict[str, str] | None = None
    _parsed: Any = _NOT_PARSED

    def __post_init__(self) -> None:
        if not self.request_id:
            # 128 random bits as 32 hex digits, like uuid4().hex but without building a UUID
            self.request_id = os.urandom(16).hex()

    # -- headers, query, cookies -------------------------------------------------------------
    def header(self, name: str) -> str | None:
        """The value of request header ``name`` (case-insensitive); repeated headers joined by ``, ``."""
        if self._header_map is None:
            merged: dict[str, str] = {}
            for key, value in self.headers:
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
            self._header_map = merged
        return self._header_map.get(name.lower())

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-case, without parameters (``""`` if none)."""
        raw = self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()

    @property
    def query(self) -> list[tuple[str, str]]:
        """Query parameters, percent-decoded once (UTF-8, ``+`` as space), in order, blanks kept."""
        if self._query is None:
            text = self.query_string.decode("latin-1")
            self._query = parse_query(text) if text else []
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies from the ``Cookie`` header (last one wins on duplicates)."""
        if self._cookies is None:
            jar: dict[str, str] = {}
            for header_name, value in self.headers:
                if header_name != "cookie":
                    continue
                for item in value.split(";"):
                    name, sep, val = item.strip().partition("=")
                    if sep and name:
                        jar[name] = val
            self._cookies = jar
        return self._cookies

    # -- body ----------------------------------------------------------------------------------
    def set_body_reader(self, reader: BodyReader | None) -> None:
        """Attach the function that pulls the body from the client (set by the chain)."""
        self._body_reader = reader

    @property
    def body_pending(self) -> bool:
        """True while the body has not been read and can still be streamed or read."""
        return self.body is None and self._body_reader is not None

    async def read_body(self, limit: int) -> bytes:
        """Read the whole body (once) within ``limit`` bytes; later calls return the cached bytes."""
        if self.body is not None:
            return self.body
        declared = self.header("content-length")
        if self._body_reader is not None and declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"the request body is {declared} bytes; the limit is {limit}")
        self.body = b"".join([chunk async for chunk in self.stream_body(limit)])
        return self.body

    async def stream_body(self, limit: int) -> AsyncIterator[bytes]:
        """Yield the body as it arrives (for forwarding without buffering), within ``limit``."""
        if self.body is not None:
            if self.body:
                yield self.body
            return
        reader = self._body_reader
        self._body_reader = None
        if reader is None:
            return
        size = 0
        more = True
        while more:
            chunk, more = await reader()
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"the request body is larger than the limit of {limit} bytes")
            if chunk:
                yield chunk

    def decode_content_encoding(self, limit: int) -> None:
        """Replace a gzip/deflate-compressed body by its decoded bytes, within ``limit`` bytes.

        Protections inspect the decoded body, and the upstream then receives exactly what was
        inspected (``Content-Encoding`` removed, ``Content-Length`` updated): an upstream that
        decompresses request bodies itself would otherwise act on bytes nobody checked. An
        encoding the gateway cannot decode (br, zstd, compress, stacked encodings) is refused
        with 415 rather than passed on unread. Call after :meth:`read_body`.
        """
        coding = (self.header("content-encoding") or "").strip().lower()
        if coding in ("", "identity"):
            return
        if coding not in _ZLIB_WBITS:
            raise UnsupportedContentEncoding(
                f"request bodies with Content-Encoding {coding[:40]!r} cannot be inspected; "
                "send them uncompressed, gzip or deflate"
            )
        body = _decompress(self.body or b"", _ZLIB_WBITS[coding], limit)
        self.set_header("content-encoding", None)
        self.replace_body(body)

    def replace_body(self, body: bytes) -> None:
        """Replace the body (sanitization): Content-Length follows, parsed forms are recomputed."""
        self.body = body
        self._parsed = _NOT_PARSED
        self.set_header("content-length", str(len(body)))

    def replace_query(self, query_string: bytes) -> None:
        """Replace the raw query string (sanitization); the decoded pairs are recomputed."""
        self.query_string = query_string
        self._query = None

    def set_header(self, name: str, value: str | None) -> None:
        """Set (or with ``None`` remove) request header ``name``, replacing every earlier value."""
        lname = name.lower()
        self.headers[:] = [(k, v) for k, v in self.headers if k != lname]
        if value is not None:
            self.headers.append((lname, value))
        self._header_map = None

    def parsed_body(self) -> Any:
        """The body parsed by its content type, cached; ``None`` for an empty or opaque body.

        JSON (``application/json`` and ``+json``) gives Python values; forms give a list of
        ``(name, value)`` pairs; XML gives a defusedxml ``Element``; multipart gives a list of
        :class:`MultipartPart`. Raises :class:`~sealgate.errors.BodyParseError` (cached too).
        """
        if self._parsed is _NOT_PARSED:
            try:
                self._parsed = _parse_body(self.content_type, self.header("content-type") or "", self.body)
            except BodyParseError as exc:
                self._parsed = exc
        if isinstance(self._parsed, BodyParseError):
            raise self._parsed
        return self._parsed

    @property
    def elapsed_ms(self) -> float:
        """Milliseconds since the exchange started."""
        return (time.perf_counter() - self.started) * 1000.0


def parse_query(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)``, with a fast path for names and values that
    need no decoding (no ``%``, no ``+``): the stdlib decodes every piece, which made query
    parsing the largest cost of validating a plain GET. Results are identical (tested)."""
    pairs: list[tuple[str, str]] = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name, encoding="utf-8", errors="replace")
        if "%" in value or "+" in value:
            value = unquote_plus(value, encoding="utf-8", errors="replace")
        pairs.append((name, value))
    return pairs


def is_json_type(media_type: str) -> bool:
    """True for ``application/json`` and any ``+json`` structured-syntax type."""
    return media_type == "application/json" or media_type.endswith("+json")


def is_xml_type(media_type: str) -> bool:
    """True for ``application/xml``, ``text/xml`` and any ``+xml`` type."""
    return media_type in ("application/xml", "text/xml") or media_type.endswith("+xml")


# zlib's wbits per content coding: 16+ is the gzip wrapper, 15 the zlib wrapper of "deflate" (RFC
# 9110 §8.4.1.2). Some clients send raw deflate without the wrapper; _decompress retries that.
_ZLIB_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _decompress(data: bytes, wbits: int, limit: int) -> bytes:
    """Decode ``data``; a result over ``limit`` bytes (a decompression bomb) is refused unexpanded."""
    try:
        return _inflate(data, wbits, limit)
    except zlib.error:
        if wbits == zlib.MAX_WBITS:
            try:
                return _inflate(data, -zlib.MAX_WBITS, limit)
            except zlib.error:
                pass
        raise BodyParseError("the request body is not valid for its Content-Encoding") from None


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    # max_length stops the expansion at limit+1 bytes, so a bomb costs at most that much memory.
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit:
        raise BodyTooLarge(f"the decompressed request body is larger than the limit of {limit} bytes")
    if not decoder.eof or decoder.unused_data:
        raise zlib.error("truncated or trailing data")
    return out


def _parse_body(media_type: str, full_type: str, body: bytes | None) -> Any:
    if not body:
        return None
    if is_json_type(media_type):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BodyParseError(f"the body is not valid JSON: {exc.msg} at byte {exc.pos}") from None
        # orjson keeps the last of duplicate keys while some upstreams keep the first, so a
        # duplicate could show the gateway one value and the API another. Counting key tokens
        # in the raw text is cheap; only a mismatch pays for the slow, exact check.
        if len(_JSON_KEY_END.findall(body)) != _count_keys(value):
            _refuse_duplicate_keys(body)
        return value
    if media_type == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyParseError("the form body is not valid UTF-8") from None
        return parse_query(text)
    if is_xml_type(media_type):
        return _parse_xml(body)
    if media_type == "multipart/form-data":
        return _parse_multipart(full_type, body)
    return None


_JSON_KEY_END = re.compile(rb'"\s*:')


def _count_keys(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _refuse_duplicate_keys(body: bytes) -> None:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, item in pairs:
            if key in seen:
                raise BodyParseError(f"the JSON body repeats the key {key[:40]!r} in one object")
            seen[key] = item
        return seen

    json.loads(body, object_pairs_hook=no_duplicates)


def _parse_xml(body: bytes) -> Any:
    # defusedxml refuses DTDs, entities and external references outright; the XXE detector
    # looks at the raw bytes first so that such a body is reported as an attack, not a typo.
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BodyParseError(f"the XML body uses a forbidden construct ({type(exc).__name__})") from None
    except ParseError as exc:
        raise BodyParseError(f"the body is not well-formed XML: {exc}") from None
    except (ValueError, LookupError):
        # expat reads only single-byte and UTF encodings: encoding="UTF-7" (a published XXE
        # bypass) raises ValueError, an unknown name LookupError. The detectors still see the raw
        # body, which the XXE detector decodes from UTF-7 itself.
        raise BodyParseError("the XML body declares a character encoding sealgate cannot read") from None


def _parse_multipart(full_type: str, body: bytes) -> list[MultipartPart]:
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(full_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise BodyParseError("the multipart body has no boundary parameter")
    return _split_multipart(body, boundary)


def _split_multipart(body: bytes, boundary: bytes) -> list[MultipartPart]:
    from python_multipart.multipart import MultipartParser, parse_options_header

    parts: list[MultipartPart] = []
    current: dict[str, Any] = {}
    header_field: list[bytes] = []
    header_value: list[bytes] = []
    data: list[bytes] = []

    def on_part_begin() -> None:
        current.clear()
        current["headers"] = {}
        data.clear()

    def on_header_field(buf: bytes, start: int, end: int) -> None:
        header_field.append(buf[start:end])

    def on_header_value(buf: bytes, start: int, end: int) -> None:
        header_value.append(buf[start:end])

    def on_header_end() -> None:
        current["headers"][b"".join(header_field).lower()] = b"".join(header_value)
        header_field.clear()
        header_value.clear()

    def on_part_data(buf: bytes, start: int, end: int) -> None:
        data.append(buf[start:end])

    def on_part_end() -> None:
        headers: dict[bytes, bytes] = current.get("headers", {})
        _, opts = parse_options_header(headers.get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = opts.get(b"filename")
        filename = raw_filename.decode("utf-8", "replace") if raw_filename is not None else None
        ctype = headers.get(b"content-type", b"text/plain").decode("latin-1")
        parts.append(MultipartPart(name, filename, ctype, b"".join(data)))

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises several unrelated types on bad input
        raise BodyParseError(f"the multipart body is malformed: {type(exc).__name__}") from None
    return parts


def decode_form_value(value: str) -> str:
    """Percent-decode a raw ``application/x-www-form-urlencoded`` value (``+`` is a space)."""
    return unquote_plus(value)

