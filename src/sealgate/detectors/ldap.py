"""LDAP filter injection: a value that closes the application's filter and opens its own.

An application building ``(&(uid=<v>)(userPassword=<p>))`` is bypassed by ``*)(uid=*))(|(uid=*``
or ``admin)(&)``: the value closes a parenthesis and starts another filter component. Detected
(paranoia 1):

- a parenthesis the value closes without having opened it (so it closes the application's
  filter), then an opening one followed by a filter component: an operator (``)(|``,
  ``)(&``, ``)!(``), or ``attr=`` where the value also has a wildcard ``*``, a doubled ``))``
  or names a common directory attribute (``uid``, ``cn``, ``objectClass``, ``mail``...);
- a value that starts with ``*)(``, or with a wildcard that opens a composite filter
  (``*(|(mail=*))``: the value completes ``(mail=`` and ORs in a match-all), or with a filter
  operator and a component that has a wildcard or a directory attribute (``&(objectClass=*)``,
  ``|(uid=admin)``: behind the application's ``(`` it becomes a composite filter);
- the joint may open more than one parenthesis (``admin*)((|userPassword=*)``);
- a value that closes parentheses it never opened and then ends the string with a NUL byte
  (``*))%00``, ``admin))\x00``): the rest of the application's filter is cut off. A lone
  wildcard closing two parentheses (``*))``) is the same truncation without the NUL.

A complete, balanced filter (``(&(objectCategory=computer)(cn=x))``) is what an LDAP search API
legitimately receives: paranoia 2.

Code in prose (``f(x)(y=2)``) has no wildcard, no filter operator and no directory attribute,
and passes; paranoia 2 reports any ``)(name=``. Rule id: ``ldap-filter``.

Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("*)(uid=*))(|(uid=*"), "form.user", 1)]
    ['ldap-filter']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "LdapDetector"]

LDAP_ATTRIBUTES: Final = frozenset(
    {"uid", "cn", "sn", "ou", "dc", "o", "objectclass", "mail", "userpassword", "password",
     "samaccountname", "givenname", "memberof", "member", "displayname", "description",
     "userprincipalname", "telephonenumber", "homedirectory", "uidnumber", "gidnumber",
     "distinguishedname", "name", "admin", "accountname", "loginshell", "objectcategory"}
)
_JOINT = re.compile(r"\)\s*!?\s*\((?:\s*\()*\s*([|&!]|[a-z][\w.;:-]*\s*[~<>:]?=)?")
_LEADING = re.compile(r"^\s*\*\s*(?:\)\s*!?\s*\(|\(\s*[|&!]\s*\(|\)\s*\)\s*(?:\x00|%00|$))")
# A parenthesis the value never opened, then a NUL byte: the C string ends there and the LDAP
# library never sees the rest of the application's filter (``admin))%00``, ``)(cn=))\x00``).
# The shared decoding drops control characters, so this looks at the raw text.
_TRUNCATION = re.compile(r"\)\s*(?:\x00|%00|\\x00|\\0)")
# A value that starts with a filter operator and a component (``&(objectClass=*)``, ``|(uid=*)``):
# the application's ``(`` before it makes it a composite filter of the sender's choosing.
_OPERATOR_START = re.compile(r"^\s*[|&!]\s*\(\s*([a-z][\w.;-]*)\s*[~<>:]?=")
_FILTER_START = re.compile(r"^\s*\(\s*[|&!]\s*\(")
MAX_JOINTS: Final = 16


class LdapDetector:
    """Detects LDAP filter injection; see the module docstring."""

    name = "ldap"
    triggers: tuple[str, ...] = (")(", ") (", ")!(", ") !(", "*)", "(|", "(&", "(!", "( |", "( &", "( !",
                                 # a NUL cannot be a trigger (the prefilter joins values with it):
                                 # "))" and the literal "\x00" stand in for the truncation shapes
                                 "))", ")\\x00", "|(", "&(", "!(")

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring."""
        text = value.lower
        level, start = self._judge(text, value.raw)
        if level == 0 or level > paranoia:
            return []
        return [Finding(self.name, "ldap-filter", "the value closes the LDAP filter and opens another",
                        "critical", location, text[max(0, start - 10):][:60], level)]

    @staticmethod
    def _truncation(raw: str) -> int | None:
        """Offset of an unopened ``)`` followed by a NUL byte in ``raw``, else None."""
        for count, match in enumerate(_TRUNCATION.finditer(raw)):
            if count >= MAX_JOINTS:
                break
            piece = raw[: match.start() + 1]
            if piece.count("(") < piece.count(")"):
                return match.start()
        return None

    @staticmethod
    def _judge(text: str, raw: str = "") -> tuple[int, int]:
        """(paranoia level, offset) of the strongest evidence; (0, 0) for none."""
        lead = _LEADING.search(text)
        if lead is not None:
            return 1, lead.start()
        operator = _OPERATOR_START.search(text)
        if operator is not None and ("*" in text or operator.group(1) in LDAP_ATTRIBUTES):
            return 1, operator.start()
        truncated = LdapDetector._truncation(raw)
        if truncated is not None:
            return 1, truncated
        best = (0, 0)
        depth = 0
        scanned = 0
        for count, joint in enumerate(_JOINT.finditer(text)):
            if count >= MAX_JOINTS:
                break
            # Parentheses balance up to and including this ")": below zero means the value
            # closes a parenthesis it never opened, i.e. one of the application's filter.
            piece = text[scanned : joint.start() + 1]
            depth += piece.count("(") - piece.count(")")
            scanned = joint.start() + 1
            follow = joint.group(1)
            if follow is None:
                continue
            if depth < 0:
                if follow in ("|", "&", "!"):
                    return 1, joint.start()
                attribute = follow.split("=")[0].rstrip("~<>:").strip()
                strong = "*" in text or "))" in text[joint.end():] or attribute in LDAP_ATTRIBUTES
                level = 1 if strong else 2
            else:
                level = 2  # a well-formed filter of its own (an API that accepts LDAP filters)
            if best[0] == 0 or level < best[0]:
                best = (level, joint.start())
        if best[0] == 0 and _FILTER_START.search(text) is not None:
            best = (2, 0)
        return best


DETECTOR = LdapDetector()
