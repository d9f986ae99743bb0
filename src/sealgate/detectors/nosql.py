"""NoSQL (MongoDB-style) operator injection: query operators where the API expects plain data.

A Node/PHP/Python backend that passes a request's parsed object straight to MongoDB lets a
client turn ``{"password": "x"}`` into ``{"password": {"$ne": null}}`` (always true), or run
JavaScript through ``$where``. The shapes:

- a JSON key that is a MongoDB query operator (``{"$ne": 1}``, ``{"$where": "sleep(5000)"}``,
  ``{"$regex": ".*"}``); JSON-Schema keywords (``$ref``, ``$schema``, ``$id``, ``$defs``...) are
  not operators and pass;
- a query/form name in bracket syntax (``password[$ne]=1``, ``user[$regex]=.*``), which
  qs/PHP/Rack expand into the same object;
- a value that is an operator fragment (``[$lte]asdf``) or a stringified operator object
  (``{"$gt": ""}``), for APIs that ``JSON.parse`` a parameter.

Paranoia 2 adds any other ``$word`` key or bracket (unknown operators, ``$func`` aggregation
stages). Rule ids: ``nosql-operator``, ``nosql-bracket``, ``nosql-json``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("pw[$ne]", kind="name"), "query.pw[$ne]:name", 1)]
    ['nosql-bracket']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "MONGO_OPERATORS", "NoSqlDetector"]

MONGO_OPERATORS: Final = frozenset(
    {"ne", "eq", "gt", "gte", "lt", "lte", "in", "nin", "regex", "where", "exists", "or", "and",
     "nor", "not", "expr", "elemmatch", "type", "all", "size", "mod", "text", "search", "function",
     "accumulator", "jsonschema", "options", "comment", "lookup", "unionwith", "merge", "out",
     "match", "group", "project", "set", "unset", "inc", "push", "pull", "rename", "addtoset",
     "geowithin", "near", "bitsallset", "slice", "setoninsert", "currentdate", "min", "max"}
)
"""MongoDB query/update/aggregation operators (without the ``$``), lower-case."""
_SCHEMA_KEYWORDS: Final = frozenset(
    {"ref", "schema", "id", "defs", "comment", "anchor", "dynamicref", "dynamicanchor", "vocabulary", "recursiveref"}
)
_BRACKET = re.compile(r"\[\s*\$([a-z]+)\s*\]")
_JSON_OPERATOR = re.compile(r"""[{,]\s*["']?\$([a-z]+)["']?\s*:""")
_KEY = re.compile(r"^\s*\$([a-z]+)\s*$")


class NoSqlDetector:
    """Detects MongoDB operator injection in names, JSON keys and stringified JSON."""

    name = "nosql"
    triggers: tuple[str, ...] = ("$",)

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        text = value.lower
        if "$" not in text:
            return []
        findings: list[Finding] = []
        if value.kind == "name":
            match = _KEY.match(text)
            if match is not None and match.group(1) not in _SCHEMA_KEYWORDS:
                known = match.group(1) in MONGO_OPERATORS
                if known or paranoia >= 2:
                    findings.append(self._finding("nosql-operator", f"a ${match.group(1)} operator key",
                                                  location, text, 1 if known else 2))
        match = _BRACKET.search(text)
        if match is not None:
            known = match.group(1) in MONGO_OPERATORS
            if known or paranoia >= 2:
                findings.append(self._finding("nosql-bracket", f"a [${match.group(1)}] operator in bracket syntax",
                                              location, text[match.start():], 1 if known else 2))
        match = _JSON_OPERATOR.search(text)
        if match is not None and match.group(1) not in _SCHEMA_KEYWORDS:
            known = match.group(1) in MONGO_OPERATORS
            if known or paranoia >= 2:
                findings.append(self._finding("nosql-json", f"a stringified ${match.group(1)} operator object",
                                              location, text[match.start():], 1 if known else 2))
        return findings

    def _finding(self, rule: str, message: str, location: str, excerpt: str, level: int) -> Finding:
        return Finding(self.name, rule, message, "critical", location, excerpt[:60], level)


DETECTOR = NoSqlDetector()
