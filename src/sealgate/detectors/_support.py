"""Small helpers shared by the detectors: excerpts, locations, bounded base64 decoding.

Private to :mod:`sealgate.detectors` (no ``DETECTOR`` here, not in the registry). Nothing in
this module allocates more than a bounded amount per call, so detectors stay linear on 1 MB
values.

Example::

    >>> excerpt("aaaa;id;bbbb", 4, 7)
    'aaaa;id;bbbb'
    >>> param_name("query.file:name"), param_name("body.$.a.path"), header_name("header.referer")
    ('file', 'path', 'referer')
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Final, Protocol

__all__ = [
    "EXCERPT_RADIUS",
    "Adder",
    "b64_decoded_tokens",
    "excerpt",
    "header_name",
    "is_name_location",
    "is_prose",
    "param_name",
    "plain_prose",
    "prose_words",
]

EXCERPT_RADIUS: Final = 32
"""Characters of context kept on each side of a match in a finding's excerpt."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def excerpt(text: str, start: int, end: int, radius: int = EXCERPT_RADIUS) -> str:
    """A short piece of ``text`` around ``text[start:end]`` (never the whole payload).

    Control characters are shown escaped (``\\x0d``), so a CRLF payload cannot split the log
    line that carries the finding.
    """
    end = min(end, start + 4 * radius)
    left = max(0, start - radius)
    right = min(len(text), end + radius)
    piece = text[left:right]
    piece = _CONTROL.sub(_escape_control, piece)
    if left > 0:
        piece = "…" + piece
    if right < len(text):
        piece += "…"
    return piece


_PARAM_TAIL = re.compile(r"(?:\[\d+\])*(?::(?:name|key|tag|filename))?$")


def param_name(location: str) -> str:
    """The parameter (or JSON key) name a location refers to, lower-case; ``""`` if none.

    ``query.file`` → ``file``; ``form.a[b]:name`` → ``a[b]``; ``body.$.cfg.path`` → ``path``;
    ``body.$['a b']`` → ``a b``; ``header.x`` / ``path[1]`` / ``body`` → ``""``.
    """
    area, dot, rest = location.partition(".")
    if not dot or area in ("header", "path"):
        return ""
    rest = _PARAM_TAIL.sub("", rest)
    if area == "body":
        # JSON path: the last member name.
        if rest.endswith("']"):
            start = rest.rfind("['")
            return rest[start + 2 : -2].lower() if start >= 0 else ""
        return rest.rsplit(".", 1)[-1].lower() if rest != "$" else ""
    if area == "xml":
        tail = rest.rsplit("/", 1)[-1]
        return tail.rsplit("@", 1)[-1].lower()
    return rest.lower()


def header_name(location: str) -> str:
    """The lower-case header name of a ``header.NAME`` location, else ``""``."""
    if location.startswith("header."):
        return location[7:].lower()
    return ""


def is_name_location(location: str) -> bool:
    """True for a location naming a key rather than a value (``query.a:name``, ``…:key``)."""
    return location.endswith((":name", ":key", ":tag"))


_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_MAX_B64_TOKENS: Final = 64


_HEX_ONLY = re.compile(r"^[0-9A-Fa-f]+$")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_DIGIT_OR_SYMBOL = re.compile(r"[0-9+/_-]")


def _looks_encoded(token: str) -> bool:
    """Cheap filter: words ("Barcelona", "password") are not worth decoding; encodings mix case.

    Hex strings (session ids, hashes) are skipped too: base64 of text always leaves the hex
    alphabet within a few characters.
    """
    if token.isalpha() and (token.islower() or token.isupper()):
        # One letter case and no digit or symbol: the test below answers False (fewer than two
        # upper- or lower-case letters, none of [0-9+/_-]). Most prose words end here.
        return False
    if _HEX_ONLY.match(token):
        return False
    uppers = len(_UPPER.findall(token, 0, 64))
    lowers = len(_LOWER.findall(token, 0, 64))
    if uppers >= 2 and lowers >= 2:
        return True
    return _DIGIT_OR_SYMBOL.search(token) is not None and (uppers + lowers) > 0


_TWO_CAPITALS = re.compile(r"[A-Z][a-z]*+[A-Z]")


def b64_decoded_tokens(text: str, max_token: int = 4096) -> Iterator[tuple[int, int, bytes]]:
    """Decode base64-looking tokens of ``text`` at each of the three alignments.

    Yields ``(start, end, decoded_bytes)``; a token can start anywhere inside an encoded
    payload (an attacker may cut a prefix off), so the token is decoded as is and with one and
    two filler characters in front: one of the three lines up with the original bytes.
    Bounded: at most 64 tokens, each at most ``max_token`` characters.
    """
    if (plain_prose(text) or _DIGIT_OR_SYMBOL.search(text) is None) and _TWO_CAPITALS.search(text) is None:
        # Safe: no token can look encoded. Without [0-9+/_-] (plain prose has none) a token is a run
        # of ASCII letters, and _looks_encoded then wants two capitals in it (the first two have
        # only lower-case letters between them). Most prose ends here.
        return
    count = 0
    for match in _B64_TOKEN.finditer(text):
        token = match.group().rstrip("=")
        if len(token) > max_token or not _looks_encoded(token):
            continue
        count += 1
        if count > _MAX_B64_TOKENS:
            return
        token = token.replace("-", "+").replace("_", "/")
        for filler in ("", "A", "AA"):
            body = filler + token
            body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
            padded = body + "=" * (-len(body) % 4)
            try:
                decoded = base64.b64decode(padded, validate=True)
            except (binascii.Error, ValueError):
                continue
            yield match.start(), match.end(), decoded


class Adder(Protocol):
    """The callback a detector's helpers report through: rule, message, severity, span, level."""

    def __call__(
        self, rule: str, message: str, severity: str, start: int, end: int, level: int = 1
    ) -> None: ...


# A word of running text: letters, maybe an apostrophe or hyphen, maybe punctuation around it.
# URL pieces, paths, options and code ("http://a.b/c", "-la", "f(x)") are not words.
_PLAIN_WORD = re.compile(r"""^[("'\u201c\u2018]?[A-Za-z][A-Za-z'\u2019-]*[)"'\u201d\u2019,.;:!?]*$""")


def prose_words(text: str, limit: int = 4096) -> int:
    """How many whitespace-separated tokens of ``text[:limit]`` are words of three letters or more."""
    # filter() with the bound match method runs the loop in C; the length test on the few words after.
    return sum(1 for word in filter(_PLAIN_WORD.match, text[:limit].split()) if len(word) >= 3)


def is_prose(text: str, min_words: int = 8, limit: int = 4096) -> bool:
    """True for running text: at least ``min_words`` words, and words make up half the tokens.

    A README paragraph or a comment is prose; a payload that carries URLs and paths
    (``;wget http://x/a.sh -O /tmp/a``) is not, however many letters its URLs contain.
    """
    tokens = text[:limit].split()
    if len(tokens) < min_words:
        return False
    words = list(filter(_PLAIN_WORD.match, tokens))
    long_words = sum(1 for word in words if len(word) >= 3)
    return long_words >= min_words and 2 * len(words) >= len(tokens)


# Possessive: one way to match, no backtracking (2 µs on 500 characters, a third of the plain form).
_PLAIN_PROSE = re.compile(r"[A-Za-z]++(?:[,.;:!?]?+ [A-Za-z]++)*+[,.;:!?]?+")


def plain_prose(text: str) -> bool:
    """True when ``text`` is ASCII words separated by single spaces, punctuation only at a word's end.

    That is ``[A-Za-z]+(?:[,.;:!?]? [A-Za-z]+)*[,.;:!?]?``: no digit, quote, bracket, operator,
    hyphen, slash, underscore, control character or escape (so every decoding layer leaves it
    unchanged), and a mark is always followed by a space or the end ("a.b" is not prose).
    Detectors use it to prove that none of their shapes can occur in a value. Remembered for the
    last few texts (up to 4096 characters), since the detectors of one value ask in turn.
    """
    return len(text) <= 4096 and _plain_prose(text)


@lru_cache(maxsize=32)
def _plain_prose(text: str) -> bool:
    return _PLAIN_PROSE.fullmatch(text) is not None
