"""Known attack tools announcing themselves: scanner User-Agents, headers and probe paths.

What it blocks (CRS 913 shapes), by where the value is:

- ``header.user-agent``: the product token of an attack or vulnerability scanner
  (``sqlmap/1.7``, ``Nikto``, ``Nmap Scripting Engine``, ``Acunetix``, ``WPScan``, ``Havij``,
  ``Arachni``, ``w3af``, ``Nessus``, ``OpenVAS``, ``masscan``, ``zgrab``, ``nuclei``,
  ``DirBuster``, ``gobuster``, ``wfuzz``, ``commix``, ``ZmEu``...) [``scanner-user-agent``];
- a header only scanners send: ``Acunetix-Product``, ``Acunetix-Scanning-agreement``,
  ``X-Scanner``, ``X-WIPP`` (WebInspect), ``X-RequestManager-Memo``, ``X-Ratproxy-Loop``
  [``scanner-header``];
- a path segment only scanners request: ``nessustest``, ``nessus_is_probing_you``,
  ``AppScan_fingerprint``, ``w00tw00t.at.ISC.SANS.DFind``, ``acunetix-wvs-test-for-some-
  inexistent-file`` [``scanner-probe-path``].

The same words anywhere else (a blog post about sqlmap in a JSON body, a search for "nikto")
are not inspected: the detector only looks at those locations. Ordinary HTTP libraries
(``curl``, ``python-requests``, ``Go-http-client``, ``okhttp``) are not scanners.

All findings are critical: a scanner's traffic is reconnaissance for the attacks that follow.
Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("sqlmap/1.7.2#stable (https://sqlmap.org)"), "header.user-agent", 1)]
    ['scanner-user-agent']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors._support import excerpt, header_name
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value
from sealgate.detectors.prefilter import trigger_matcher

__all__ = ["DETECTOR", "ScannerDetector"]

_SCANNER_AGENTS = re.compile(
    r"(?<![a-z0-9])(?:sqlmap|nikto|nmap(?:[ -]nse| scripting engine)?|acunetix|wpscan|havij|arachni|w3af"
    r"|nessus|openvas|masscan|zgrab|zmeu|nuclei|dirbuster|dirb|gobuster|feroxbuster|wfuzz|ffuf|fimap|commix"
    r"|xsser|sqlninja|bsqlbf|pangolin|jbrofuzz|webshag|uniscan|skipfish|grendel-scan|netsparker|invicti"
    r"|webinspect|appscan|qualys was|n-stealth|nsauditor|paros|burp ?suite|owasp[ _-]?zap|zaproxy"
    r"|morfeus fucking scanner|dotdotpwn|mysqloit|sql power injector|springenwerk|cgichk|cisco-torch"
    r"|absinthe|brutus|hydra|medusa|metis|voideye|webvulnscan|whatweb|wapiti|vega/|jaeles|xray|ghauri"
    r"|teh forest lobster|toata dragostea|this is an exploit|gootkit auto-rooter|crimscanner|datacha0s"
    r"|floodgate|inspath|internet ninja|jaascois|pmafind|webbandit|wordpress hash grabber|xmlrpc exploit"
    r"|black widow|autogetcontent|prog\.customcrawler|security scan|webtrends security analyzer|bfac|grabber"
    r"|fuzz faster u fool|interactsh|dalfox)"
    r"(?![a-z])",
)
"""Matched on :func:`_fold` of the decoded text: as IGNORECASE would, several times faster."""
# What IGNORECASE matches to an ASCII letter besides its other case: "ı"/"İ" (i), "ſ" (s) and
# the Kelvin sign (k); a decoded value is NFKC-normalised, which already turned the last two
# into "s" and "K". "İ" is also the one character whose lower case is longer (so positions in
# the folded text are positions in the decoded text).
_DOTTED_I: Final = {0x130: "i", 0x131: "i"}


def _fold(text: str) -> str:
    """``text`` lower-cased for :data:`_SCANNER_AGENTS`, with the same length."""
    return text.translate(_DOTTED_I).lower() if not text.isascii() else text.lower()


def _literal_heads(pattern: str) -> list[str]:
    """The literal text each alternative of ``pattern``'s main group starts with.

    Splitting on every "|" also splits nested groups, which only adds heads (a gate built from
    them passes more often, never less); an alternative without a literal head gives ``""``.
    """
    body = pattern[pattern.index("(?:") + 3 : pattern.rindex(")(?![a-z])")]
    heads = []
    for alternative in body.split("|"):
        head = re.match(r"[^\\\[(?*+{.)]*", alternative)
        text = head.group() if head else ""
        if alternative[len(text) : len(text) + 1] in ("?", "*", "{"):
            text = text[:-1]  # "burp ?suite": the space is optional
        heads.append(text)
    return heads


_AGENT_HEADS: Final = _literal_heads(_SCANNER_AGENTS.pattern)
# One Aho–Corasick pass over a User-Agent instead of the 87-way regex (which tries every
# alternative at every position): the regex runs only when some tool's name may be there.
_MAY_NAME_AGENT = trigger_matcher(_AGENT_HEADS) if all(_AGENT_HEADS) else (lambda text: True)
_SCANNER_HEADERS: Final = frozenset(
    {
        "acunetix-product", "acunetix-scanning-agreement", "acunetix-user-agreement", "acunetix-aspect",
        "acunetix-aspect-password", "acunetix-aspect-queries", "x-scanner", "x-wipp", "x-request-memo",
        "x-requestmanager-memo", "x-ratproxy-loop", "x-scan-memo", "x-wvs-id", "x-acunetix",
        "x-arachni-scan-seed", "x-nuclei",
    }
)
_SCANNER_HEADER_VALUES = re.compile(r"acunetix web vulnerability scanner|\bwvs/\d", re.IGNORECASE)
_PROBE_PATHS = re.compile(
    r"nessustest|nessus_is_probing_you|appscan_fingerprint|w00tw00t\.at\.(?:isc\.sans|blackhats)"
    r"|acunetix-wvs-test|wvstest|muieblackcat|netsparker\w{0,20}test|nikto-test|sqlmap-test|zgrab",
    re.IGNORECASE,
)


class ScannerDetector:
    """Attack-tool fingerprints in the User-Agent, scanner headers and probe paths."""

    name = "scanner"
    # Probe paths and scanner header values by content (IGNORECASE patterns: the triggers avoid
    # "i", which ``re`` also matches to "ı"/"İ" while lower-casing does not); scanner headers and
    # the User-Agent by location, since the header's name alone is the signal.
    triggers: tuple[str, ...] = (
        "nessus", "appscan", "w00tw00t", "acunet", "wvstest", "blackcat", "netspar", "kto-test", "sqlmap",
        "zgrab", "wvs/",
    )
    location_triggers: tuple[str, ...] = (
        "header.user-agent", *sorted(f"header.{name}" for name in _SCANNER_HEADERS),
    )

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        header = header_name(location)
        if header:
            if header in _SCANNER_HEADERS:
                return [self._finding("scanner-header", f"scanner header {header!r}", location, value.raw, 0, 0)]
            if header == "user-agent":
                folded = _fold(value.decoded)
                match = _SCANNER_AGENTS.search(folded) if _MAY_NAME_AGENT(folded) else None
            else:
                match = _SCANNER_HEADER_VALUES.search(value.decoded)
            if match is not None:
                tool = value.decoded[match.start() : match.end()]
                return [self._finding("scanner-user-agent" if header == "user-agent" else "scanner-header",
                                      f"attack tool {tool!r}", location, value.decoded,
                                      match.start(), match.end())]
            return []
        if location == "path" or location.startswith("path["):
            match = _PROBE_PATHS.search(value.decoded)
            if match is not None:
                return [self._finding("scanner-probe-path", f"scanner probe path {match.group()!r}", location,
                                      value.decoded, match.start(), match.end())]
        return []

    def _finding(self, rule: str, message: str, location: str, text: str, start: int, end: int) -> Finding:
        return Finding(self.name, rule, message, "critical", location, excerpt(text, start, end))


DETECTOR = ScannerDetector()
