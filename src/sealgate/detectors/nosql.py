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
  (``{"$gt": ""}``, also without the braces: ``$where: '1 == 1'``), for APIs that
  ``JSON.parse`` a parameter or splice it into a query literal;
- server-side JavaScript (a ``$where`` string or ``mapReduce`` function the value is spliced
  into): a string closed and joined to a document field (``' && this.password.match(/.*/)//``,
  ``' || this.role == 'admin``); a string or number closed by ``;`` and followed by a statement
  (``';return 'a'=='a``, ``0;return true``, ``';do{...}while(...)``), where a statement is also
  a complete call or a ``new`` assignment (``';sleep(5000);``, ``';it=new Date();...``); a
  literal compared with itself, joined by ``||``/``&&`` to a closed string or the value's start
  (``' || 'a'=='a``, ``|| 1==1``, and the always-false ``' && 'a'!='a`` of a boolean-blind
  probe); a mongo-shell collection call that
  *is* the value (``db.users.insert({...})``). Statements and shell calls count at paranoia 2
  when the value reads as a sentence;
- a string closed inside a query literal and an unquoted operator key after it
  (``' } ], $comment:'x'``): JSON quotes its keys, so ``'`` then ``, $op:`` is a breakout into
  the surrounding object, and every MongoDB operator counts there, ``$comment`` included.

Paranoia 2 adds any other ``$word`` key or bracket (unknown operators, ``$func`` aggregation
stages). Rule ids: ``nosql-operator``, ``nosql-bracket``, ``nosql-json``, ``nosql-js``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("pw[$ne]", kind="name"), "query.pw[$ne]:name", 1)]
    ['nosql-bracket']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors._support import is_prose
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
_JSON_OPERATOR = re.compile(r"""(?:^|[{,])\s*["']?\$([a-z]+)["']?\s*:""")
# A JS string closed, then a boolean join to a document field: "' && this.password.match(".
_WHERE_BREAKOUT = re.compile(r"""["'`]\s*(?:&&|\|\|)\s*this\s*\.\s*[a-z_$]""")
# A string (or a number) ended by ";" and a new statement: the rest of a $where function body.
# A statement is a keyword, a complete call ("sleep(5000);": the name glued to its argument list,
# which closes, then the statement ends) or an object built with "new" ("it=new Date()"): a
# bare "'; word" or "'; notes (see ...)" is not. A call or a "new" counts only after the value's
# first quote, the one that closes the query's string: after a later quote it is a line of a
# code sample ("use Foo ':all';\n version('2.0');"), where one quoted string ended and the next
# statement began.
_WHERE_STATEMENT = re.compile(
    r"""(?:["'`]|^\s*\d+)\s*;\s*(?:return\b|var\s|let\s|do\s*\{|while\s*\("""
    r"""|(?P<call>[a-z_$][\w$]{0,40}\([^()]{0,100}\)\s*(?:[;+]|$)|[a-z_$][\w$]{0,40}\s*=\s*new\s))"""
)
_QUOTE = re.compile(r"""["'`]""")
# A literal compared with itself, joined to a closed string (or starting the value): "' || 'a'=='a",
# "|| 1==1" (always true), "' && 'a'!='a" (always false: the other half of a boolean-blind probe).
# The two literals are captured and checked equal in code; the second may be left open (the
# query's own closing quote ends it) and anything may follow it ("'a'=='a//", "'a'=='a'\"}//").
_WHERE_TAUTOLOGY = re.compile(
    r"""(?:^|["'`)\d])\s*(?:\|\||&&)\s*(?:(\d{1,12})\s*[=!]==?\s*(\d{1,12})(?![\w.])"""
    r"""|(["'])(\w{0,20})\3\s*[=!]==?\s*\3(\w{0,20})(?!\w))"""
)
# A quote closes a string inside a query literal, brackets/braces close, then an unquoted "$op:"
# key follows: "' } ], $comment:'...'" (stringified JSON would quote the key).
_BREAKOUT_KEY = re.compile(r"""["'`][\s\]}]{0,20},\s*\$([a-z]+)\s*:""")
_SHELL_CALL = re.compile(
    r"(?<![\w.])db\s*\.\s*[a-z_]\w*\s*\.\s*(?:insert|find|update|remove|delete|drop|mapreduce|aggregate)\w*\s*\("
)
_KEY = re.compile(r"^\s*\$([a-z]+)\s*$")


class NoSqlDetector:
    """Detects MongoDB operator injection in names, JSON keys and stringified JSON."""

    name = "nosql"
    triggers: tuple[str, ...] = ("$", "&&", "||", "db.", "db .", "';", "' ;", "\";", "\" ;", "`;",
                                 ";return", "; return", ";var", "; var", ";let", "; let", ";do", "; do",
                                 ";while", "; while")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        text = value.lower
        findings = self._javascript(text, location, paranoia)
        if "$" not in text:
            return findings
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
        match = _BREAKOUT_KEY.search(text)
        if match is not None and match.group(1) in MONGO_OPERATORS:
            findings.append(self._finding("nosql-json", f"a string closed and a ${match.group(1)} operator key added",
                                          location, text[match.start():], 1))
            return findings
        match = _JSON_OPERATOR.search(text)
        if match is not None and match.group(1) not in _SCHEMA_KEYWORDS:
            known = match.group(1) in MONGO_OPERATORS
            if known or paranoia >= 2:
                findings.append(self._finding("nosql-json", f"a stringified ${match.group(1)} operator object",
                                              location, text[match.start():], 1 if known else 2))
        return findings

    def _javascript(self, text: str, location: str, paranoia: int) -> list[Finding]:
        """``$where``/``mapReduce`` JavaScript: a field join or a statement after a closed string, a shell call."""
        match = _WHERE_BREAKOUT.search(text) if "this" in text else None
        if match is not None:
            return [self._finding("nosql-js", "a string closed and joined to a document field ($where)",
                                  location, text[match.start():], 1)]
        if "||" in text or "&&" in text:
            for match in _WHERE_TAUTOLOGY.finditer(text):
                if (match.group(1) is not None and match.group(1) == match.group(2)) or (
                    match.group(3) is not None and match.group(4) == match.group(5)
                ):
                    return [self._finding("nosql-js", "a literal compared with itself joined to the query ($where)",
                                          location, text[match.start():], 1)]
        level = 2 if is_prose(text) else 1
        match = _WHERE_STATEMENT.search(text) if ";" in text else None
        if match is not None and match.group("call") is not None and _QUOTE.search(text, 0, match.start()):
            match = None  # a call after a later quote: a code sample's next line, not a breakout
        if match is not None and level <= paranoia:
            return [self._finding("nosql-js", "a string ended and a JavaScript statement started ($where)",
                                  location, text[match.start():], level)]
        match = _SHELL_CALL.search(text) if "db" in text else None
        if match is not None and level <= paranoia:
            return [self._finding("nosql-js", "a mongo shell collection call", location,
                                  text[match.start():], level)]
        return []

    def _finding(self, rule: str, message: str, location: str, excerpt: str, level: int) -> Finding:
        return Finding(self.name, rule, message, "critical", location, excerpt[:60], level)


DETECTOR = NoSqlDetector()
