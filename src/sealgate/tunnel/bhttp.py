"""Binary HTTP (RFC 9292): the message format carried inside Oblivious HTTP.

What it does: :func:`decode_request` / :func:`decode_response` parse known-length (framing
indicators 0 and 1) and indeterminate-length (2 and 3) messages, including informational
(1xx) responses, trailers, padding and truncated trailing sections; :func:`encode_request` /
:func:`encode_response` write known-length messages.

The decoder reads bytes that arrived encrypted from an arbitrary client, so it is strict:

* every length is checked against what is left of the input and against :class:`BhttpLimits`
  before anything is sliced or allocated; malformed input of any kind raises
  :class:`BhttpError` (a ``RequestError``, HTTP 400), never ``IndexError`` or ``ValueError``;
* method, scheme, authority and path must be printable ASCII of their grammar, so nothing
  decoded here can smuggle CR/LF, spaces or NUL into an HTTP/1.1 request line;
* field names must be non-empty lowercase ``tchar`` tokens (as in HTTP/2 and HTTP/3, whose
  pseudo-fields the control data replaces) and field values must not contain NUL, CR or LF;
* padding must be zero bytes; a 101 (Switching Protocols) response is refused because a
  tunnel cannot switch protocols.

Truncation (RFC 9292 §3.8): a message may end at the start of a section that would be empty
(trailers; content and trailers; and, as the RFC 9458 Appendix A example does, the header
section too). A message that ends inside a section is invalid.

Configuration: :class:`BhttpLimits` (per-call, defaults in :data:`DEFAULT_LIMITS`).

Example::

    >>> from sealgate.tunnel import bhttp
    >>> req = bhttp.BhttpRequest("GET", "https", "example.com", "/", [(b"accept", b"*/*")])
    >>> bhttp.decode_request(bhttp.encode_request(req)) == req
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from sealgate.errors import RequestError

__all__ = [
    "DEFAULT_LIMITS",
    "FRAMING_INDETERMINATE_REQUEST",
    "FRAMING_INDETERMINATE_RESPONSE",
    "FRAMING_KNOWN_REQUEST",
    "FRAMING_KNOWN_RESPONSE",
    "BhttpError",
    "BhttpLimits",
    "BhttpRequest",
    "BhttpResponse",
    "Fields",
    "InformationalResponse",
    "decode",
    "decode_request",
    "decode_response",
    "decode_varint",
    "encode_request",
    "encode_response",
    "encode_varint",
]

FRAMING_KNOWN_REQUEST: Final = 0
FRAMING_KNOWN_RESPONSE: Final = 1
FRAMING_INDETERMINATE_REQUEST: Final = 2
FRAMING_INDETERMINATE_RESPONSE: Final = 3

Fields = list[tuple[bytes, bytes]]
"""A field section: ``(name, value)`` pairs in order, names lowercase, as in ASGI."""


class BhttpError(RequestError):
    """The Binary HTTP message is truncated, malformed or over a limit (HTTP 400)."""

    status = 400
    title = "Malformed Binary HTTP Message"


@dataclass(frozen=True, slots=True)
class BhttpLimits:
    """Caps the decoder enforces; the input size itself is bounded by the caller's body limit."""

    max_field_section_bytes: int = 64 * 1024
    """Encoded size of one header or trailer section (names, values and their length prefixes)."""
    max_field_lines: int = 256
    """Field lines in one header or trailer section."""
    max_control_bytes: int = 16 * 1024
    """Length of each of method, scheme, authority and path."""
    max_informational: int = 16
    """Informational (1xx) responses before the final response."""


DEFAULT_LIMITS: Final = BhttpLimits()


@dataclass(slots=True)
class BhttpRequest:
    """A request: control data, header fields, content, trailer fields and padding length."""

    method: str
    scheme: str
    authority: str
    path: str
    headers: Fields = field(default_factory=list)
    body: bytes = b""
    trailers: Fields = field(default_factory=list)
    padding: int = 0
    """Zero bytes after the message: set to pad when encoding, reported when decoding."""


@dataclass(slots=True)
class InformationalResponse:
    """An interim 1xx response that precedes the final response."""

    status: int
    headers: Fields = field(default_factory=list)


@dataclass(slots=True)
class BhttpResponse:
    """A final response with any informational responses that came before it."""

    status: int
    headers: Fields = field(default_factory=list)
    body: bytes = b""
    trailers: Fields = field(default_factory=list)
    informational: list[InformationalResponse] = field(default_factory=list)
    padding: int = 0
    """Zero bytes after the message: set to pad when encoding, reported when decoding."""


# -- character classes -----------------------------------------------------------------------
# Membership tables built once; ``bytes.translate(None, delete)`` leaves only forbidden bytes,
# which checks a whole string in C instead of a Python loop.

_DIGIT = b"0123456789"
_LOWER = b"abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_TCHAR = b"!#$%&'*+-.^_`|~" + _DIGIT + _LOWER + _UPPER
_FIELD_NAME = b"!#$%&'*+-.^_`|~" + _DIGIT + _LOWER  # tchar without uppercase
_SCHEME = _DIGIT + _LOWER + _UPPER + b"+-."
_VISIBLE = bytes(range(0x21, 0x7F))
_AUTHORITY = bytes(c for c in _VISIBLE if c not in b"/?#")
_VALUE_FORBIDDEN = b"\x00\r\n"


def _only(value: bytes, allowed: bytes) -> bool:
    return not value.translate(None, allowed)


# Field names and control data that passed their checks before: a set lookup is ~6x cheaper than
# ``translate`` (which builds a 256-entry table per call), and real traffic repeats a few dozen
# names and one (method, scheme, authority) per site. Bounded in entries and entry size, so
# arbitrary input cannot grow them; once full, new values are simply checked every time.
_SEEN_MAX: Final = 512
_SEEN_ENTRY_MAX: Final = 64
_SEEN_NAMES: Final[set[bytes]] = set()
_SEEN_CONTROL: Final[set[tuple[bytes, bytes, bytes]]] = set()


def _check_name(name: bytes) -> bool:
    """Whether ``name`` is a lowercase token (remembering short valid names for next time)."""
    if not name or name.translate(None, _FIELD_NAME):
        return False
    if len(name) <= _SEEN_ENTRY_MAX and len(_SEEN_NAMES) < _SEEN_MAX:
        _SEEN_NAMES.add(name)
    return True


def _check_field(name: bytes, value: bytes) -> None:
    if not name or not _only(name, _FIELD_NAME):
        # Do not echo the bytes: they come from an attacker and end up in logs.
        raise BhttpError("invalid field name (must be a lowercase token)")
    if value.translate(None, _VALUE_FORBIDDEN) != value:
        raise BhttpError("invalid field value (contains NUL, CR or LF)")


def _check_control(method: bytes, scheme: bytes, authority: bytes, path: bytes) -> None:
    if not method or not _only(method, _TCHAR):
        raise BhttpError("invalid request method")
    if scheme and (not _only(scheme, _SCHEME) or scheme[0] not in _LOWER + _UPPER):
        raise BhttpError("invalid request scheme")
    if not _only(authority, _AUTHORITY):
        raise BhttpError("invalid request authority")
    if not _only(path, _VISIBLE):
        raise BhttpError("invalid request path")


# -- variable-length integers (RFC 9000 §16) -------------------------------------------------


def encode_varint(value: int) -> bytes:
    """The shortest QUIC variable-length integer encoding of ``value`` (0 ≤ value < 2**62)."""
    if value < 0x40:
        if value < 0:
            raise ValueError("varint must be non-negative")
        return bytes((value,))
    if value < 0x4000:
        return (value | 0x4000).to_bytes(2, "big")
    if value < 0x4000_0000:
        return (value | 0x8000_0000).to_bytes(4, "big")
    if value < 0x4000_0000_0000_0000:
        return (value | 0xC000_0000_0000_0000).to_bytes(8, "big")
    raise ValueError("varint must be below 2**62")


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode the varint at ``data[pos:]``; returns ``(value, new_pos)``; raises :class:`BhttpError`."""
    if pos >= len(data):
        raise BhttpError("truncated message")
    first = data[pos]
    size = 1 << (first >> 6)
    end = pos + size
    if end > len(data):
        raise BhttpError("truncated message")
    if size == 1:
        return first, end
    return int.from_bytes(data[pos:end], "big") & ((1 << (8 * size - 2)) - 1), end


# -- decoding --------------------------------------------------------------------------------


def _known_fields(data: bytes, pos: int, limits: BhttpLimits) -> tuple[Fields, int]:
    """The known-length field section at ``data[pos:]``; returns the fields and the position after it."""
    length = data[pos] if pos < len(data) else 0x40  # 0x40: let decode_varint report the truncation
    if length < 0x40:
        pos += 1
    else:
        length, pos = decode_varint(data, pos)
    if length > limits.max_field_section_bytes:
        raise BhttpError(f"field section exceeds {limits.max_field_section_bytes} bytes")
    end = pos + length
    if end > len(data):
        raise BhttpError("truncated message")
    fields: Fields = []
    max_lines = limits.max_field_lines
    # Hot path (every tunneled request): one-byte lengths (names and values under 64 bytes)
    # are read inline instead of through decode_varint.
    while pos < end:
        if len(fields) >= max_lines:
            raise BhttpError(f"more than {max_lines} field lines")
        name_len = data[pos]
        if name_len < 0x40:
            pos += 1
        else:
            name_len, pos = decode_varint(data, pos)
        name_end = pos + name_len
        if name_end >= end:  # a value length must follow the name
            raise BhttpError("field line overruns its section")
        name = data[pos:name_end]
        value_len = data[name_end]
        if value_len < 0x40:
            pos = name_end + 1
        else:
            value_len, pos = decode_varint(data, name_end)
        value_end = pos + value_len
        # decode_varint may read past ``end`` into the next section; the check below
        # catches that because pos > end implies value_end > end.
        if value_end > end:
            raise BhttpError("field line overruns its section")
        value = data[pos:value_end]
        if name not in _SEEN_NAMES and not _check_name(name):
            raise BhttpError("invalid field name (must be a lowercase token)")
        # Byte values, not b"\r": ``bytes in bytes`` first tries the operand as an int and
        # formats a TypeError for it, which costs more than the search.
        if 0 in value or 13 in value or 10 in value:
            raise BhttpError("invalid field value (contains NUL, CR or LF)")
        fields.append((name, value))
        pos = value_end
    return fields, end


class _Reader:
    """A cursor over the input. Every read checks bounds and raises BhttpError."""

    __slots__ = ("data", "end", "limits", "pos")

    def __init__(self, data: bytes, limits: BhttpLimits) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.limits = limits

    def at_end(self) -> bool:
        return self.pos >= self.end

    def varint(self) -> int:
        pos = self.pos
        if pos < self.end:
            first = self.data[pos]
            if first < 0x40:  # one byte: every length of a typical request
                self.pos = pos + 1
                return first
        value, self.pos = decode_varint(self.data, pos)
        return value

    def take(self, length: int) -> bytes:
        end = self.pos + length
        if end > self.end:
            raise BhttpError("truncated message")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def vbytes(self, cap: int, what: str) -> bytes:
        length = self.varint()
        if length > cap:
            raise BhttpError(f"{what} exceeds {cap} bytes")
        pos = self.pos
        end = pos + length
        if end > self.end:
            raise BhttpError("truncated message")
        self.pos = end
        return self.data[pos:end]

    def known_fields(self) -> Fields:
        fields, self.pos = _known_fields(self.data, self.pos, self.limits)
        return fields

    def indeterminate_fields(self) -> Fields:
        limits = self.limits
        start = self.pos
        fields: Fields = []
        while True:
            name_len = self.varint()
            if name_len == 0:  # Content Terminator
                return fields
            if len(fields) >= limits.max_field_lines:
                raise BhttpError(f"more than {limits.max_field_lines} field lines")
            if self.pos + name_len - start > limits.max_field_section_bytes:
                raise BhttpError(f"field section exceeds {limits.max_field_section_bytes} bytes")
            name = self.take(name_len)
            value = self.vbytes(limits.max_field_section_bytes, "field section")
            if self.pos - start > limits.max_field_section_bytes:
                raise BhttpError(f"field section exceeds {limits.max_field_section_bytes} bytes")
            _check_field(name, value)
            fields.append((name, value))

    def fields(self, known: bool) -> Fields:
        return self.known_fields() if known else self.indeterminate_fields()

    def content(self, known: bool) -> bytes:
        if known:
            return self.take(self.varint())
        chunks: list[bytes] = []
        while True:
            length = self.varint()
            if length == 0:
                return b"".join(chunks)
            chunks.append(self.take(length))

    def tail(self, known: bool) -> tuple[Fields, bytes, Fields, int]:
        """Header section, content, trailers, padding: each may be truncated away if empty."""
        headers: Fields = []
        body = b""
        trailers: Fields = []
        if not self.at_end():
            headers = self.fields(known)
            if not self.at_end():
                body = self.content(known)
                if not self.at_end():
                    trailers = self.fields(known)
        padding = self.end - self.pos
        if padding and self.data[self.pos :].count(0) != padding:
            raise BhttpError("non-zero padding")
        return headers, body, trailers, padding


def _framing(reader: _Reader) -> int:
    framing = reader.varint()
    if framing > FRAMING_INDETERMINATE_RESPONSE:
        raise BhttpError("unknown framing indicator")
    return framing


def _ascii(value: bytes) -> str:
    # Callers check the character class first, so this cannot fail.
    return value.decode("ascii")


def _request(reader: _Reader, framing: int) -> BhttpRequest:
    cap = reader.limits.max_control_bytes
    method = reader.vbytes(cap, "method")
    scheme = reader.vbytes(cap, "scheme")
    authority = reader.vbytes(cap, "authority")
    path = reader.vbytes(cap, "path")
    _check_control(method, scheme, authority, path)
    headers, body, trailers, padding = reader.tail(framing == FRAMING_KNOWN_REQUEST)
    return BhttpRequest(
        _ascii(method), _ascii(scheme), _ascii(authority), _ascii(path), headers, body, trailers, padding
    )


def _response(reader: _Reader, framing: int) -> BhttpResponse:
    known = framing == FRAMING_KNOWN_RESPONSE
    informational: list[InformationalResponse] = []
    while True:
        status = reader.varint()
        if 200 <= status <= 599:
            break
        if not 100 <= status <= 199:
            raise BhttpError("invalid status code")
        if status == 101:
            raise BhttpError("101 Switching Protocols cannot be carried in Binary HTTP")
        if len(informational) >= reader.limits.max_informational:
            raise BhttpError(f"more than {reader.limits.max_informational} informational responses")
        informational.append(InformationalResponse(status, reader.fields(known)))
    headers, body, trailers, padding = reader.tail(known)
    return BhttpResponse(status, headers, body, trailers, informational, padding)


def decode(data: bytes, *, limits: BhttpLimits = DEFAULT_LIMITS) -> BhttpRequest | BhttpResponse:
    """Decode a Binary HTTP request or response, whichever the framing indicator says."""
    reader = _Reader(bytes(data), limits)
    framing = _framing(reader)
    if framing in (FRAMING_KNOWN_REQUEST, FRAMING_INDETERMINATE_REQUEST):
        return _request(reader, framing)
    return _response(reader, framing)


_CONTROL_PARTS: Final = ("method", "scheme", "authority", "path")


def _known_request(data: bytes, limits: BhttpLimits) -> BhttpRequest:
    """A known-length request (framing indicator 0: what clients send) in one function.

    The same checks, in the same order, as ``_request`` over a ``_Reader`` (the tests compare
    the two), but flattened with one-byte lengths read inline: this runs for every tunneled
    request, and a dozen method calls fewer is a measurable part of the tunnel's cost.
    """
    end = len(data)
    pos = 1  # after the framing indicator
    cap = limits.max_control_bytes
    control: list[bytes] = []
    for what in _CONTROL_PARTS:
        if pos < end and data[pos] < 0x40:
            length = data[pos]
            pos += 1
        else:
            length, pos = decode_varint(data, pos)
        if length > cap:
            raise BhttpError(f"{what} exceeds {cap} bytes")
        stop = pos + length
        if stop > end:
            raise BhttpError("truncated message")
        control.append(data[pos:stop])
        pos = stop
    method, scheme, authority, path = control
    if (method, scheme, authority) in _SEEN_CONTROL:
        # Only the path is new: visible ASCII (0x21-0x7E), checked on the decoded text, where
        # str.isprintable() excludes the control characters and DEL.
        try:
            target = path.decode("ascii")
        except UnicodeDecodeError:
            raise BhttpError("invalid request path") from None
        if not target.isprintable() or " " in target:
            raise BhttpError("invalid request path")
    else:
        _check_control(method, scheme, authority, path)
        target = path.decode("ascii")
        if len(method) + len(scheme) + len(authority) <= _SEEN_ENTRY_MAX and len(_SEEN_CONTROL) < _SEEN_MAX:
            _SEEN_CONTROL.add((method, scheme, authority))
    headers: Fields = []
    body = b""
    trailers: Fields = []
    if pos < end:  # each section may be truncated away if it and everything after it are empty
        headers, pos = _known_fields(data, pos, limits)
        if pos < end:
            length = data[pos]
            if length < 0x40:
                pos += 1
            else:
                length, pos = decode_varint(data, pos)
            stop = pos + length
            if stop > end:
                raise BhttpError("truncated message")
            body = data[pos:stop]
            pos = stop
            if pos < end:
                if data[pos]:
                    trailers, pos = _known_fields(data, pos, limits)
                else:  # an empty trailer section (what encoders write): one zero byte
                    pos += 1
    padding = end - pos
    if padding and data[pos:].count(0) != padding:
        raise BhttpError("non-zero padding")
    return BhttpRequest(
        method.decode("ascii"), scheme.decode("ascii"), authority.decode("ascii"), target, headers, body, trailers,
        padding,
    )


def decode_request(data: bytes, *, limits: BhttpLimits = DEFAULT_LIMITS) -> BhttpRequest:
    """Decode a Binary HTTP request; a response (or anything malformed) raises :class:`BhttpError`."""
    data = bytes(data)  # no copy for bytes
    if data[:1] == b"\x00":
        return _known_request(data, limits)
    reader = _Reader(data, limits)
    framing = _framing(reader)
    if framing not in (FRAMING_KNOWN_REQUEST, FRAMING_INDETERMINATE_REQUEST):
        raise BhttpError("expected a request, got a response")
    return _request(reader, framing)


def decode_response(data: bytes, *, limits: BhttpLimits = DEFAULT_LIMITS) -> BhttpResponse:
    """Decode a Binary HTTP response; a request (or anything malformed) raises :class:`BhttpError`."""
    reader = _Reader(bytes(data), limits)
    framing = _framing(reader)
    if framing not in (FRAMING_KNOWN_RESPONSE, FRAMING_INDETERMINATE_RESPONSE):
        raise BhttpError("expected a response, got a request")
    return _response(reader, framing)


# -- encoding (known length) -----------------------------------------------------------------
# Encoding errors are the caller's bug or an upstream's invalid data, not the client's, so
# they raise ValueError rather than BhttpError (which maps to a 400 for the client).


def _vbytes(out: list[bytes], value: bytes) -> None:
    out.append(encode_varint(len(value)))
    out.append(value)


def _encode_fields(fields: Fields) -> bytes:
    if not fields:
        return b"\x00"
    out = bytearray()
    for name, value in fields:
        if name not in _SEEN_NAMES and not _check_name(name):
            raise ValueError("invalid field name (must be a lowercase token)")
        if 0 in value or 13 in value or 10 in value:  # NUL, CR, LF (ints: see _known_fields)
            raise ValueError("invalid field value (contains NUL, CR or LF)")
        # Lengths under 64 (most names and values) are one-byte varints: appended inline.
        size = len(name)
        if size < 0x40:
            out.append(size)
        else:
            out += encode_varint(size)
        out += name
        size = len(value)
        if size < 0x40:
            out.append(size)
        else:
            out += encode_varint(size)
        out += value
    return encode_varint(len(out)) + out


def _encode_tail(
    out: list[bytes], headers: Fields, body: bytes, trailers: Fields, padding: int, truncate: bool
) -> bytes:
    if padding < 0:
        raise ValueError("padding must be non-negative")
    # Content as its length and the body itself: one join copies the body once.
    sections = [_encode_fields(headers), encode_varint(len(body)), body, _encode_fields(trailers)]
    # With truncate, drop trailing empty sections (each encodes as the single byte 0x00). Not with
    # padding: a decoder reads the first padding bytes as those empty sections (RFC 9292 §3.8), so
    # the decoded padding length would differ; truncating would save nothing anyway.
    if truncate and not padding and sections[3] == b"\x00":
        del sections[3]
        if not body:
            del sections[1:3]
            if sections[0] == b"\x00":
                del sections[0]
    if padding:
        sections.append(bytes(padding))
    out.extend(sections)
    return b"".join(out)


def encode_request(request: BhttpRequest, *, truncate: bool = False) -> bytes:
    """Encode ``request`` as a known-length message (framing indicator 0).

    ``truncate`` omits trailing empty sections (RFC 9292 §3.8) for a shorter message.
    """
    parts = [request.method, request.scheme, request.authority, request.path]
    try:
        raw = [part.encode("ascii") for part in parts]
        _check_control(*raw)
    except (UnicodeEncodeError, BhttpError) as exc:
        raise ValueError(f"cannot encode request control data: {exc}") from None
    out = [encode_varint(FRAMING_KNOWN_REQUEST)]
    for part in raw:
        _vbytes(out, part)
    return _encode_tail(out, request.headers, request.body, request.trailers, request.padding, truncate)


def encode_response(response: BhttpResponse, *, truncate: bool = False) -> bytes:
    """Encode ``response`` (and its informational responses) as a known-length message (indicator 1).

    ``truncate`` omits trailing empty sections (RFC 9292 §3.8) for a shorter message.
    """
    if not 200 <= response.status <= 599:
        raise ValueError("final status must be 200..599")
    out = [encode_varint(FRAMING_KNOWN_RESPONSE)]
    for info in response.informational:
        if not 100 <= info.status <= 199 or info.status == 101:
            raise ValueError("informational status must be 100..199 and not 101")
        out.append(encode_varint(info.status))
        out.append(_encode_fields(info.headers))
    out.append(encode_varint(response.status))
    return _encode_tail(out, response.headers, response.body, response.trailers, response.padding, truncate)
