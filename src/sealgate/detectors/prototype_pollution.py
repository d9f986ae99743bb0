"""Prototype pollution: ``__proto__`` / ``constructor.prototype`` in keys a JavaScript backend merges.

A Node.js backend that deep-merges request data (``_.merge``, ``Object.assign`` loops, ``qs``
with ``allowPrototypes``) writes ``{"__proto__": {"isAdmin": true}}`` onto ``Object.prototype``
and so onto every object in the process. The shapes:

- a JSON key, query/form name or cookie name that is or contains ``__proto__`` (``__proto__``,
  ``a[__proto__][x]``, ``a.__proto__.x``), or ``constructor`` followed by ``prototype``
  (``constructor[prototype][x]``, ``a[constructor][prototype]``, ``constructor.prototype``), or a
  JSON member ``prototype`` nested right under a member ``constructor``
  (``{"constructor": {"prototype": {...}}}``, seen through the key's location);
- a value that carries the same inside stringified JSON (``{"__proto__": ...}``) or a path
  (``__proto__.polluted``, ``constructor.prototype.x``, the JSON Pointer ``/__proto__/x`` of a
  JSON Patch operation), for APIs that parse, ``set()`` or patch with it.

Prose about JavaScript that merely mentions ``__proto__`` is a paranoia-2 finding.
Rule ids: ``proto-key``, ``proto-path``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("__proto__", kind="name"), "body.$.__proto__:key", 1)]
    ['proto-key']
"""

from __future__ import annotations

import re

from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "PrototypePollutionDetector"]

# ``constructor`` then ``prototype`` as path steps in any notation: dotted (``constructor.prototype``),
# bracketed (``constructor[prototype]``, ``a[constructor][prototype]``, ``["constructor"]["prototype"]``)
# or a JSON Pointer / slash path (``/constructor/prototype``, RFC 6902 patch paths).
_CONSTRUCTOR_PROTOTYPE = re.compile(
    r"/\s*constructor\s*/\s*prototype"  # a pointer step: prose's "constructor/prototype pattern" is not
    r"|constructor\s*['\"]?\s*\]?\s*(?:\.|\[)\s*['\"]?\s*prototype"
)
_PROTO_PATH = re.compile(r"""(?:^|[.\[\s"'/])__proto__\s*(?:[.\]\[/]|["']\s*[:\]])""")
# A JSON member named "prototype" directly under one named "constructor": the engine gives each
# key its own input, so the path is only visible in the location (``body.$.a.constructor.prototype:key``).
_CONSTRUCTOR_KEY_LOCATION = re.compile(r"[.$\]]constructor(?:'\])?(?:\.|\[')prototype(?:'\])?:key$")


class PrototypePollutionDetector:
    """Detects prototype-pollution keys and paths; see the module docstring."""

    name = "prototype_pollution"
    triggers: tuple[str, ...] = ("__proto__", "prototype")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        text = value.lower
        findings: list[Finding] = []
        if "__proto__" in text:
            if value.kind == "name":
                findings.append(Finding(self.name, "proto-key", "a __proto__ key", "critical", location,
                                        text[:60], 1))
            elif _PROTO_PATH.search(text) is not None or text.strip() == "__proto__":
                findings.append(Finding(self.name, "proto-path", "a __proto__ path or key in the value",
                                        "critical", location, text[:60], 1))
            elif paranoia >= 2:
                findings.append(Finding(self.name, "proto-path", "__proto__ is mentioned", "critical",
                                        location, text[:60], 2))
        if value.kind == "name" and text == "prototype" and _CONSTRUCTOR_KEY_LOCATION.search(location.lower()):
            findings.append(Finding(self.name, "proto-key", "a prototype key under a constructor key", "critical",
                                    location, location[-60:], 1))
        elif "prototype" in text and "constructor" in text:
            match = _CONSTRUCTOR_PROTOTYPE.search(text)
            if match is not None:
                level = 1 if value.kind == "name" or "[" in match.group() or len(text) < 80 else 2
                if level <= paranoia:
                    findings.append(Finding(self.name, "proto-key", "constructor.prototype is addressed",
                                            "critical", location, text[match.start():][:60], level))
        return findings


DETECTOR = PrototypePollutionDetector()
