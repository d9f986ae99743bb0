"""Session fixation: an attacker planting a session id the victim will then log in with.

What it blocks (CRS 943 shapes):

- a session id in the URL (``?jsessionid=...``, ``?PHPSESSID=...``, ``;jsessionid=...``): the
  classic fixation link. It is an attack when the link came from another site or from nowhere
  (no ``Referer``); the site's own pages may legitimately carry it (URL rewriting), so a
  same-site ``Referer`` makes it pass. This needs the request context
  (:mod:`~sealgate.detectors.context`); without one, the finding counts 4 points
  [``session-id-in-url``];
- a value that sets a cookie from script or markup: ``document.cookie="sessionid=...;
  domain=..."``, ``<meta http-equiv="Set-Cookie" ...>``, a ``Set-Cookie:`` line for a session
  cookie [``session-cookie-set``].

Not an attack: a session cookie in the ``Cookie`` header (that is where it belongs), a
parameter named ``session`` holding a date, prose about cookies.

Config: none besides paranoia. Example::

    >>> with request_context(host="shop.example", referer=None):
    ...     [f.rule_id for f in DETECTOR.detect(Value("74B0CB414BD77D17B5680A6386EF1666"),
    ...                                          "query.jsessionid", 1)]
    ['session-id-in-url']
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from sealgate.detectors._support import excerpt, param_name
from sealgate.detectors.base import Finding
from sealgate.detectors.context import current_context
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "SessionDetector"]

# Session cookie names of common platforms (CRS session-names.data and a few frameworks).
_SESSION_NAMES: Final = frozenset(
    {
        "jsessionid", "aspsessionid", "asp.net_sessionid", "phpsession", "phpsessid", "weblogicsession",
        "session_id", "session-id", "sessionid", "sessid", "cfid", "cftoken", "cfsid", "jservsession",
        "jwsession", "connect.sid", "laravel_session", "ci_session", "_session_id", "rack.session",
        "express.sid", "sails.sid", "symfony", "zend_session", "cakephp", "frontend", "sess_id",
    }
)
_ASPSESSION = re.compile(r"^aspsessionid\w*$")
_PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sessionid|sid)=[^;/?#]+", re.IGNORECASE)
_COOKIE_SET = re.compile(
    r"\.\s*cookie\s*=[^;\n]{0,200};[^\n]{0,200}?\b(?:expires|domain|path|max-age)\s*="
    r"|\bdocument\s*\.\s*cookie\s*=\s*[\"'`]?\s*[\w.-]*sess[\w.-]*="
    r"|\bhttp-equiv\W{1,8}set-cookie\b",
    re.IGNORECASE,
)
_SET_COOKIE_LINE = re.compile(r"\bset-cookie2?\s*:\s*([\w.-]+)\s*=", re.IGNORECASE)


class SessionDetector:
    """Session fixation; see the module docstring."""

    name = "session"
    # "cookie": the gate of the cookie-setting rules; ";jsess", ";phpsess", ";s": a session id in
    # a path (";jsessionid=", ";sid="; no "i", which IGNORECASE also matches to "ı"). A session id
    # in a query parameter is signalled by where the value is (the parameter's name).
    triggers: tuple[str, ...] = ("cookie", ";jsess", ";phpsess", ";s")
    location_triggers: tuple[str, ...] = (
        "query.aspsessionid", *sorted(f"query.{name}" for name in _SESSION_NAMES),
    )

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        findings: list[Finding] = []
        if location.startswith("query.") and not location.endswith(":name") and value.raw.strip():
            name = param_name(location)
            if name in _SESSION_NAMES or _ASPSESSION.match(name):
                finding = self._url_session(name, value, location)
                if finding is not None:
                    findings.append(finding)
        elif location.startswith("path") and ";" in value.raw:
            match = _PATH_SESSION.search(value.decoded)
            if match is not None:
                finding = self._url_session(match.group(1).lower(), value, location)
                if finding is not None:
                    findings.append(finding)
        text = value.decoded
        if "cookie" in value.lower:
            match = _COOKIE_SET.search(text)
            if match is not None:
                findings.append(Finding(self.name, "session-cookie-set", "value sets a cookie from script/markup",
                                        "critical", location, excerpt(text, match.start(), match.end())))
            else:
                line = _SET_COOKIE_LINE.search(text)
                if line is not None:
                    cookie = line.group(1).lower()
                    severity = "critical" if cookie in _SESSION_NAMES or "sess" in cookie else "warning"
                    findings.append(Finding(self.name, "session-cookie-set", f"Set-Cookie line for {cookie!r}",
                                            severity, location, excerpt(text, line.start(), line.end())))
        return findings

    def _url_session(self, name: str, value: Value, location: str) -> Finding | None:
        context = current_context()
        if context is None:
            severity, why = "error", "session id in the URL"
        elif context.referer is None or not context.referer.strip():
            severity, why = "critical", "session id in the URL of a request without Referer"
        elif not _same_site(context.referer, context.host):
            severity, why = "critical", "session id in the URL of a request from another site"
        else:
            return None
        return Finding(self.name, "session-id-in-url", f"{why} ({name})", severity, location,
                       excerpt(value.decoded, 0, min(len(value.decoded), 16)))


def _same_site(referer: str, host: str) -> bool:
    """True when the Referer's host is the request's host or one of its subdomains."""
    try:
        ref_host = (urlsplit(referer.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    own = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    own = own.strip("[]").lower().rstrip(".")
    return bool(own) and (ref_host == own or ref_host.endswith("." + own))


DETECTOR = SessionDetector()
