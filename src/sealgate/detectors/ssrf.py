"""Server-side request forgery and remote file inclusion: URLs the server should never fetch.

What it blocks:

- URLs to the server's own network: loopback, private, link-local, unspecified and other
  non-global addresses, in every spelling URL parsers accept: ``127.0.0.1``, ``127.1``,
  ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``0``, ``[::1]``, ``[::ffff:127.0.0.1]``,
  ``[::ffff:7f00:1]``, NAT64/6to4 forms, full-width or circled digits, ``。`` for ``.``; names
  that mean the same (``localhost``, ``*.localhost``, ``*.internal``, ``kubernetes.default``)
  and wildcard-DNS names embedding an internal address (``127.0.0.1.nip.io``,
  ``10-0-0-1.sslip.io``, also after a public one: ``a.1.2.3.4.1time.127.0.0.1.rebind.network``);
  dotless numbers past 32 bits, which parsers keeping the low bits wrap (``7147006462``,
  ``0x41414141a9fea9fe``: 169.254.169.254). All three readings of ``@``/``\\`` tricks are checked
  (``http://good.example@127.0.0.1``, ``http://127.0.0.1\\@good.example``, and the naive split on
  the last ``@`` before the path: ``http://evil.com#@127.0.0.1``), and a NUL byte ends the host as
  C resolvers read it (``http://127.0.0.1%00.example.com``).
- Cloud metadata endpoints, with or without a scheme: ``169.254.169.254``,
  ``metadata.google.internal``, ``100.100.100.200``, ``[fd00:ec2::254]``, ``rancher-metadata``;
  without a scheme also a DNS name spelling the metadata address
  (``make-1.2.3.4-rebind-169.254-169.254-rr.1u.ms``), and a bare rebinding-service name for an
  internal one (``make-1.1.1.1-rebind-127.0.0.1-rr.1u.ms``).
- Schemes that turn a fetch into something else: ``gopher:``, ``dict:``, ``file:``, ``jar:``,
  ``netdoc:``, ``tftp:`` (critical); ``ldap:``, ``rmi:``, ``iiop:``, UNC paths
  ``\\\\host\\share`` (4 points, critical from paranoia 2).
- Remote file inclusion (CRS 931): a URL ending in ``?`` or a NUL byte
  (``http://evil/shell.txt?``, ``http://evil/shell%00``: both cut off the suffix the
  application appends); a UNC path to a PHP script (``\\\\evil\\share\\x.php``, which
  ``include`` fetches over SMB on Windows); a URL in a parameter that names a local path
  (``_CONF[path]``, ``mosConfig_absolute_path``, ``include``, ``basedir``); a URL with a
  numeric host pointing at a script (``http://66.240.183.75/crash.php``).
- A value that is a URL imitating the request's own ``Host`` (CRS 931130's bypasses): another
  port of that host (``https://shop.example:8443/``), its name as the first labels of another
  domain (``shop.example.evil.com``) or glued to a prefix (``evilshop.example``, when the
  imitated label has at least :data:`_MIN_GLUED_LABEL` characters) [``ssrf-lookalike-host``].
- At paranoia 2, a value that is a URL to any other site than the request's ``Host`` (CRS
  931130): at paranoia 1 an API's link, avatar and webhook fields hold such URLs all day.
  Both need :mod:`~sealgate.detectors.context`.

Not an attack: ``https://example.com/page``, ``http://8.8.8.8/`` (4 points only when a bare
public IP hosts a script), a bare ``192.168.1.1`` or ``db.internal`` without a scheme (a network
setting), ``https://example.com/?to=a@example.org`` (``@`` after the path), and
URLs in ``Referer``/``Origin``, which the browser sets.

Rule ids: ``ssrf-internal-address``, ``ssrf-cloud-metadata``, ``ssrf-dangerous-scheme``,
``ssrf-obfuscated-ip``, ``ssrf-unc-path``, ``ssrf-oast-host`` (Burp Collaborator, interactsh...),
``ssrf-rfi-query-stuffing``, ``ssrf-rfi-include-param``,
``ssrf-rfi-ip-script``, ``ssrf-lookalike-host``, ``ssrf-off-domain-url``.

Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("http://0x7f000001/admin"), "query.url", 1)]
    ['ssrf-internal-address']
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

from sealgate.detectors._support import Adder, excerpt, header_name, is_prose, param_name
from sealgate.detectors.base import Finding
from sealgate.detectors.context import current_context
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "SsrfDetector", "classify_host", "parse_ipv4"]

_DOTS: Final = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# scheme ":" then "//", "\\", "/\", "\/" (parsers treat "\" like "/"), or "/" for file:/etc/x.
_URL = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,15}):[ \t]*([/\\]{1,3})")
_JAR = re.compile(r"(?<![A-Za-z0-9+.-])jar:(?:https?|file|ftp):", re.IGNORECASE)
_PROTOCOL_RELATIVE = re.compile(r"^\s*(?://|\\\\)(?=[^/\\\s])")
_DANGEROUS_SCHEMES: Final = frozenset({"gopher", "dict", "file", "jar", "netdoc", "tftp"})
_DIRECTORY_SCHEMES: Final = frozenset({"ldap", "ldaps", "rmi", "iiop", "corba", "nis", "nds"})
_WEB_SCHEMES: Final = frozenset({"http", "https", "ftp", "ftps", "ws", "wss", "sftp", "scp", "smb", "telnet"})
# Schemes WHATWG parsers accept with one or three slashes too ("http:/host", "file:///etc").
_SLASH_TOLERANT: Final = frozenset({"http", "https", "ftp", "ftps", "ws", "wss", "file", "netdoc"})
_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ftp": "21", "ftps": "990", "ws": "80", "wss": "443"}
# Where an authority ends (WHATWG also ends it at "\", RFC 3986 parsers do not).
_AUTHORITY_END = re.compile(r"[/?#\s\"'<>`|{}^]")
_AUTHORITY_END_WHATWG = re.compile(r"[/?#\\\s\"'<>`|{}^]")
_METADATA_HOSTS: Final = frozenset(
    {
        "metadata.google.internal", "metadata.goog", "metadata", "instance-data",
        "instance-data.ec2.internal", "metadata.azure.internal", "metadata.packet.net",
        "metadata.platformequinix.com", "rancher-metadata", "metadata.tencentyun.com",
    }
)
_METADATA_IPS: Final = frozenset(
    {
        ipaddress.ip_address(a)
        for a in ("169.254.169.254", "169.254.170.2", "169.254.169.123", "169.254.169.253",
                  "100.100.100.200", "192.0.0.192", "fd00:ec2::254", "fd00:ec2::23")
    }
)
_OVERFLOW_QUAD = re.compile(r"^(\d{1,5})\.(\d{1,5})\.(\d{1,5})\.(\d{1,5})$")
# Out-of-band interaction services: a URL there is a blind-SSRF (or blind-injection) probe.
_OAST_SUFFIXES: Final = (
    "burpcollaborator.net", "oastify.com", "interact.sh", "interactsh.com", "oast.pro", "oast.live",
    "oast.site", "oast.online", "oast.fun", "oast.me", "dnslog.cn", "ceye.io",
)
_SHARED_SPACE: Final = ipaddress.ip_network("100.64.0.0/10")
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_INTERNAL_SUFFIXES: Final = (".localhost", ".internal", ".svc", ".cluster.local", ".svc.cluster.local")
_LOCAL_SUFFIXES: Final = (".local", ".localdomain", ".lan", ".intranet", ".corp", ".home.arpa", ".home")
_LOOPBACK_NAMES: Final = frozenset(
    {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "localtest.me", "lvh.me",
     "vcap.me", "lacolhost.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
)
# An IPv4 address spelled inside a DNS name (nip.io, sslip.io, 1u.ms rebinding services).
_EMBEDDED_IPV4 = re.compile(r"(?:^|[.-])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=[.-]|$)")
_MAX_EMBEDDED: Final = 8
"""Embedded addresses examined per name: ``A.1.2.3.4.1time.127.0.0.1.forever.rebind.network``
spells a public address first and the one it rebinds to after."""
# Wildcard-DNS and rebinding services: a name there resolves to the address spelled inside it.
_REBINDING_SUFFIXES: Final = (
    ".nip.io", ".sslip.io", ".xip.io", ".1u.ms", ".rbndr.us", ".rebind.network", ".rebind.it", ".lcl.host",
)
# A value that is one bare DNS name (no scheme): checked only for metadata and rebinding names.
_BARE_HOST = re.compile(r"\s*([a-z0-9][a-z0-9.-]{2,252}\.[a-z][a-z0-9-]{0,62})\.?\s*")
# How a naive parser reads the host: after the last "@" before the path, ignoring "#" and "?"
# ("http://evil.com#@127.0.0.1" is evil.com to WHATWG, 127.0.0.1 to a split on "@").
_NAIVE_AUTHORITY = re.compile(r"[^\s/\\]{0,256}@([^\s/\\?#@]{1,256})")
_EMBEDDED_HEX = re.compile(r"(?:^|[.-])([0-9a-f]{8})\.(?:nip\.io|sslip\.io|xip\.io)$")
_BARE_METADATA = re.compile(
    r"(?<![\w.])(?:169\.254\.169\.254|100\.100\.100\.200|metadata\.google\.internal|fd00:ec2::254)(?![\w.])"
)
_UNC = re.compile(r"^\s*\\\\([A-Za-z0-9_.\-\[\]:]+)\\[^\\\s]")
_SCRIPT_PATH = re.compile(
    r"\.(?:php\d?|phtml|inc|txt|jsp|jspx|asp|aspx|pl|cgi|py|sh|rb|cfm|war|gif|jpg|png)(?:$|[?#;%])", re.IGNORECASE
)
_PHP_SCRIPT = re.compile(r"\.(?:php\d?|phtml|inc)(?:$|[?#;%\s])", re.IGNORECASE)
_RFI_STUFFING = re.compile(r"^(?:https?|ftps?|file)(?::(?://|\\\\)\S*)?\?+$", re.IGNORECASE)
_WHOLE_URL = re.compile(r"^\s*(?:https?|ftps?|file)://", re.IGNORECASE)
# Parameters that name a local path or an included file: a URL there is an inclusion. Matched
# on the name's words (``mosConfig_absolute_path`` -> mos, config, absolute, path), so
# ``redirect`` does not contain "dir".
_INCLUDE_WORDS: Final = frozenset(
    {"path", "dir", "root", "basedir", "base_dir", "docroot", "include", "require", "inc", "abspath",
     "rootdir", "includedir", "includepath", "incdir", "libdir", "basepath", "filepath", "appserv"}
)
_REDIRECT_WORDS: Final = frozenset(
    {"redirect", "return", "callback", "next", "continue", "success", "cancel", "back", "target", "url", "uri", "href"}
)
_NAME_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_WEAK_INCLUDE_PARAM: Final = frozenset(
    {"page", "file", "template", "tpl", "lang", "language", "view", "show", "doc", "document", "content",
     "layout", "style", "load", "read", "mod", "conf", "site", "folder", "skin", "theme", "cat", "action"}
)
_FETCH_CONTEXT = re.compile(
    r"""(?:src|href|action|data|poster|background|url|formaction|xlink:href)\s*[=(:]\s*["']?\s*$"""
)
_SKIPPED_HEADERS: Final = frozenset({"referer", "origin", "host", "x-forwarded-host"})


@dataclass(frozen=True, slots=True)
class _Url:
    scheme: str
    start: int
    end: int
    hosts: tuple[str, ...]
    """Candidate hosts: the WHATWG reading first, then the RFC 3986 one if different."""
    port: str
    rest: str


class SsrfDetector:
    """SSRF and remote file inclusion; see the module docstring."""

    name = "ssrf"
    triggers: tuple[str, ...] = (
        "://", ":/", ":\\", "\\\\", "//", "169.254", "metadata", "instance-data", "100.100.100.200", "fd00:ec2",
        "http", "ftp", "file", "nip.io", "sslip.io", "xip.io", "1u.ms", "rbndr.us", "rebind.", "lcl.host",
    )

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        if header_name(location) in _SKIPPED_HEADERS:
            return []
        text = value.decoded
        if not text:
            return []
        if not text.isascii():
            text = text.translate(_DOTS)
        findings: list[Finding] = []
        seen: set[str] = set()

        def add(rule: str, message: str, severity: str, start: int, end: int, level: int = 1) -> None:
            if rule not in seen:
                seen.add(rule)
                findings.append(Finding(self.name, rule, message, severity, location,
                                        excerpt(text, start, end), level))

        stripped = text.strip()
        if _RFI_STUFFING.match(stripped):
            add("ssrf-rfi-query-stuffing", "URL ending in '?' (remote file inclusion)", "critical", 0, len(text))
        elif _WHOLE_URL.match(text) and _ends_with_nul(value):
            # "http://evil/shell%00": the NUL cuts off the suffix the application appends, as "?" does.
            add("ssrf-rfi-query-stuffing", "URL ending in a NUL byte (remote file inclusion)", "critical",
                0, len(text))
        urls = _find_urls(text)
        for url in urls:
            self._check_url(url, text, location, paranoia, add)
        nul_form = next((form for form in reversed(value.variants) if "\x00" in form), None)
        if nul_form is not None:
            # C resolvers stop at a NUL, so "http://127.0.0.1%00.example.com" reaches 127.0.0.1;
            # ``decoded`` drops the NUL and would read the host "127.0.0.1.example.com".
            cut = nul_form.replace("\x00", " ")
            for url in _find_urls(cut):
                self._check_url(url, cut, location, paranoia, add)
        if not any(url.scheme for url in urls):  # a UNC path reads as a protocol-relative URL too
            unc = _UNC.match(text)
            if unc is not None:
                host = unc.group(1).lower()
                kind = classify_host(host)
                # A PHP script on a share is what include() fetches over SMB on Windows (RFI).
                script = _PHP_SCRIPT.search(text) is not None
                severity = "critical" if kind is not None or script or paranoia >= 2 else "error"
                add("ssrf-unc-path", f"UNC path to host {host!r}", severity, unc.start(), unc.end())
        if "ssrf-cloud-metadata" not in seen:
            bare = _BARE_METADATA.search(text.lower())
            if bare is not None:
                add("ssrf-cloud-metadata", "cloud metadata address", "critical", bare.start(), bare.end())
        if not urls:
            self._check_bare_host(text, add)
        return findings

    def _check_bare_host(self, text: str, add: Adder) -> None:
        """A value that is one DNS name spelling a metadata address, or a rebinding name for an internal one.

        A bare ``192.168.1.1`` or ``db.internal`` is a network setting; a name on a wildcard-DNS or
        rebinding service (``make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms``) exists only to reach the
        address written inside it.
        """
        bare = _BARE_HOST.fullmatch(text.lower())
        if bare is None:
            return
        host = bare.group(1)
        kind = classify_host(host)
        if kind == "metadata":
            add("ssrf-cloud-metadata", f"DNS name for a cloud metadata address {host!r}", "critical",
                bare.start(1), bare.end(1))
        elif kind == "internal" and host.endswith(_REBINDING_SUFFIXES):
            add("ssrf-internal-address", f"rebinding DNS name for an internal address {host!r}", "critical",
                bare.start(1), bare.end(1))

    def _check_url(self, url: _Url, text: str, location: str, paranoia: int, add: Adder) -> None:
        scheme = url.scheme
        verdicts = [(host, classify_host(host)) for host in url.hosts]
        for host, kind in verdicts:
            if kind == "metadata":
                add("ssrf-cloud-metadata", f"URL to cloud metadata host {host!r}", "critical", url.start, url.end)
                return
        for host, kind in verdicts:
            if kind == "oast":
                add("ssrf-oast-host", f"URL to an out-of-band interaction service {host!r}", "critical",
                    url.start, url.end)
                return
        for host, kind in verdicts:
            if kind == "internal":
                # A URL mentioned in running text ("the server runs on http://localhost:8000") is
                # not one handed to a fetcher; markup (src=, href=, url()) and whole values are.
                add("ssrf-internal-address", f"URL to internal host {host!r}",
                    _embedded_severity(text, url, paranoia), url.start, url.end)
                return
        if scheme in _DANGEROUS_SCHEMES:
            # A file:/// path quoted in a manual is not a URL handed to a fetcher.
            add("ssrf-dangerous-scheme", f"{scheme}: URL", _embedded_severity(text, url, paranoia),
                url.start, url.end)
            return
        if scheme in _DIRECTORY_SCHEMES:
            add("ssrf-dangerous-scheme", f"{scheme}: URL (directory/RMI lookup)",
                "critical" if paranoia >= 2 else "error", url.start, url.end)
            return
        host = url.hosts[0] if url.hosts else ""
        kind = verdicts[0][1] if verdicts else None
        if kind in ("obfuscated", "local-name"):
            label = "non-canonical numeric host" if kind == "obfuscated" else "local network name"
            rule = "ssrf-obfuscated-ip" if kind == "obfuscated" else "ssrf-internal-address"
            add(rule, f"URL with {label} {host!r}", "critical" if paranoia >= 2 else "error", url.start, url.end)
        if scheme not in _WEB_SCHEMES:
            return
        whole = text[: url.start].strip() == "" and scheme in ("http", "https", "ftp", "ftps")
        if whole:
            name = param_name(location)
            if name and _is_include_param(location):
                add("ssrf-rfi-include-param", f"URL in path-like parameter {name!r}", "critical", url.start, url.end)
            elif name in _WEAK_INCLUDE_PARAM and _SCRIPT_PATH.search(url.rest):
                add("ssrf-rfi-include-param", f"script URL in parameter {name!r}", "critical", url.start, url.end)
        if parse_ipv4(host) is not None and _SCRIPT_PATH.search(url.rest):
            add("ssrf-rfi-ip-script", f"script fetched from numeric host {host!r}", "critical", url.start, url.end)
        elif parse_ipv4(host) is not None and whole:
            add("ssrf-rfi-ip-script", f"URL with numeric host {host!r}", "critical" if paranoia >= 2 else "error",
                url.start, url.end)
        if whole and not location.startswith(("header.", "xml.")):
            context = current_context()
            if context is not None and context.host and not _same_site(host, url.port, scheme, context.host):
                lookalike = _impersonation(host, context.host)
                if lookalike is not None:
                    add("ssrf-lookalike-host", f"URL to {host!r}: {lookalike}", "critical", url.start, url.end)
                if paranoia >= 2:
                    add("ssrf-off-domain-url", f"URL to another site {host!r}", "critical", url.start, url.end, 2)


def _ends_with_nul(value: Value) -> bool:
    """True when a decoding layer of ``value`` ends in NUL (``%00``, ``%2500``), which ``decoded`` drops."""
    return any(form.rstrip(" \t\r\n").endswith(("\x00", "%00")) for form in value.variants)


def _is_fetchable(text: str, url: _Url) -> bool:
    """True when the URL is the whole value (or a field's value), or sits where markup fetches it."""
    before = text[: url.start]
    if not before.strip(" \t\r\n\"'`([{<"):
        return True  # the value starts with the URL (whatever follows it is the payload's tail)
    tail = before[-24:].lower().rstrip(" \t\"'")
    return tail.endswith(("=", ":")) or _FETCH_CONTEXT.search(before[-24:].lower()) is not None


def _embedded_severity(text: str, url: _Url, paranoia: int) -> str:
    """Severity of an internal or dangerous URL by where it sits: a value, markup, a sentence."""
    if paranoia >= 2 or _is_fetchable(text, url):
        return "critical"
    return "warning" if is_prose(text) else "error"


def _is_include_param(location: str) -> bool:
    """True when the parameter's name says it holds a local path or an included file."""
    rest = location.partition(".")[2]
    words = {w.lower() for w in _NAME_WORD.findall(rest.split(":", 1)[0])}
    return bool(words & _INCLUDE_WORDS) and not words & _REDIRECT_WORDS


def _find_urls(text: str) -> list[_Url]:
    """Every URL in ``text`` (at most 32), with its candidate hosts."""
    urls: list[_Url] = []
    length = len(text)
    candidates: list[tuple[str, int, int]] = []
    for match in _URL.finditer(text):
        candidates.append((match.group(1).lower(), match.start(), match.end()))
        if len(candidates) >= 32:
            break
    relative = _PROTOCOL_RELATIVE.match(text)
    if relative is not None and not candidates:
        candidates.append(("", relative.start(), relative.end()))
    for scheme, start, after in candidates:
        slashes = text[start:after].rsplit(":", 1)[-1].strip() if scheme else "//"
        if slashes.replace("\\", "/") != "//" and scheme not in _SLASH_TOLERANT:
            continue  # "r1:/32": only special schemes take one or three slashes
        if scheme == "file" and (after >= length or text[after] in " \t\r\n\"'`<>)"):
            continue  # "a ``file://`` URL": the scheme named, no URL
        if scheme == "file" and len(slashes) != 2:
            urls.append(_Url(scheme, start, after, (), "", text[after : after + 200]))
            continue
        window = text[after : min(length, after + 512)]
        hosts: list[str] = []
        port = ""
        rest = ""
        for pattern in (_AUTHORITY_END_WHATWG, _AUTHORITY_END):
            stop = pattern.search(window)
            authority = window[: stop.start()] if stop else window
            host, host_port = _split_authority(authority)
            if host and host not in hosts:
                hosts.append(host)
            if pattern is _AUTHORITY_END_WHATWG:
                port = host_port
                rest = window[len(authority) :]
        naive = _NAIVE_AUTHORITY.match(window)
        if naive is not None:
            host, _ = _split_authority(naive.group(1))
            if host and host not in hosts:
                hosts.append(host)
        urls.append(_Url(scheme, start, after + len(window) - len(rest), tuple(hosts), port, rest[:200]))
    jar = _JAR.search(text, 0, min(length, 4096))
    if jar is not None:
        urls.append(_Url("jar", jar.start(), jar.end(), (), "", ""))
    return urls


def _split_authority(authority: str) -> tuple[str, str]:
    """``(host, port)`` of an authority: userinfo dropped (last ``@`` wins), brackets kept out."""
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    authority = authority.strip()
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return authority[1:].lower(), ""
        host = authority[1:close]
        tail = authority[close + 1 :]
        return host.lower(), tail[1:] if tail.startswith(":") else ""
    if authority.count(":") > 1:
        return authority.lower(), ""  # unbracketed IPv6 (lenient parsers accept it)
    host, _, port = authority.partition(":")
    return host.lower().rstrip("."), port


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` the way ``inet_aton`` and WHATWG URL parsers do, or ``None``.

    Accepts one to four parts, each decimal, ``0x`` hex or ``0``-prefixed octal; the last part
    fills the remaining bytes: ``127.1``, ``2130706433``, ``0x7f.1``, ``0177.0.0.01``.
    """
    if not host or len(host) > 64:
        return None
    parts = host.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        if not part:
            return None
        try:
            if part[:2] in ("0x", "0X"):
                number = int(part[2:] or "0", 16)
            elif len(part) > 1 and part[0] == "0":
                number = int(part, 8)
            else:
                number = int(part, 10) if part.isdigit() else -1
        except ValueError:
            return None
        if number < 0:
            return None
        numbers.append(number)
    last = numbers[-1]
    head = numbers[:-1]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _wrap_dotless(host: str) -> ipaddress.IPv4Address | None:
    """The low 32 bits of a dotless number too large for an address (decimal, ``0x`` hex, octal), or ``None``."""
    if not 10 <= len(host) <= 40 or "." in host:
        return None
    try:
        if host[:2] == "0x":
            number = int(host[2:], 16)
        elif host.isdigit():
            number = int(host, 8 if host[0] == "0" else 10)
        else:
            return None
    except ValueError:
        return None
    if number <= 0xFFFFFFFF:
        return None
    return ipaddress.IPv4Address(number & 0xFFFFFFFF)


def _ip_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if ip in _METADATA_IPS:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and int(ip) >> 32 == 0 and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # ::127.0.0.1 (IPv4-compatible)
        if embedded is not None:
            return _ip_kind(embedded)
    if ip in _SHARED_SPACE if isinstance(ip, ipaddress.IPv4Address) else False:
        return "internal"
    return None if ip.is_global else "internal"


def classify_host(host: str) -> str | None:
    """What a URL host points at: ``metadata``, ``internal``, ``oast``, ``local-name``,
    ``obfuscated``, or ``None`` for an ordinary public host."""
    host = host.strip().lower().rstrip(".")
    if not host:
        return None
    if "%" in host:
        host = host.split("%", 1)[0]  # IPv6 zone id: fe80::1%eth0
    if host in _METADATA_HOSTS:
        return "metadata"
    if ":" in host:
        try:
            return _ip_kind(ipaddress.IPv6Address(host))
        except ValueError:
            return None
    if host.endswith(_OAST_SUFFIXES):
        return "oast"
    overflow = _OVERFLOW_QUAD.match(host)
    if overflow is not None and any(int(part) > 255 for part in overflow.groups()):
        # "425.510.425.510": parsers that keep the low byte of each part read 169.254.169.254.
        wrapped = ipaddress.IPv4Address(".".join(str(int(part) % 256) for part in overflow.groups()))
        return _ip_kind(wrapped) or "obfuscated"
    wrapped_number = _wrap_dotless(host)
    if wrapped_number is not None:
        # "7147006462", "0x41414141a9fea9fe": parsers that keep the low 32 bits read 169.254.169.254.
        return _ip_kind(wrapped_number) or "obfuscated"
    ipv4 = parse_ipv4(host)
    if ipv4 is not None:
        kind = _ip_kind(ipv4)
        if kind is not None:
            return kind
        canonical = str(ipv4)
        return "obfuscated" if canonical != host else None
    if host in _LOOPBACK_NAMES or host.endswith(_INTERNAL_SUFFIXES) or host.endswith(".localtest.me"):
        return "internal"
    for index, embedded in enumerate(_EMBEDDED_IPV4.finditer(host)):
        if index >= _MAX_EMBEDDED:
            break
        try:
            ip = ipaddress.IPv4Address(".".join(embedded.groups()))
        except ValueError:
            continue
        if _ip_kind(ip) is not None:
            return _ip_kind(ip)
    hexed = _EMBEDDED_HEX.search(host)
    if hexed is not None:
        kind = _ip_kind(ipaddress.IPv4Address(int(hexed.group(1), 16)))
        if kind is not None:
            return kind
    if host.endswith(_LOCAL_SUFFIXES):
        return "local-name"
    return None


_MIN_GLUED_LABEL: Final = 6
"""``evilexample.com`` imitates ``example.com`` only when the imitated name is distinctive:
``foxnews.com`` is not a fake ``news.com``."""


def _impersonation(host: str, request_host: str) -> str | None:
    """How an off-site ``host[:port]`` imitates the request's own host, or ``None``.

    Allowlist checks written as ``startswith``/``endswith``/"same host" are what SSRF and RFI
    payloads get around: another port of this very host (a service not meant to be exposed),
    this host's name as the first labels of a foreign one (``example.com.evil.com``), or glued
    to a foreign prefix (``evilexample.com``).
    """
    own_host, _ = _split_authority(request_host)
    if not own_host or not host:
        return None
    if host == own_host or host.endswith("." + own_host):
        return "another port of the requested host"  # only called when _same_site said no
    if "." not in own_host or parse_ipv4(own_host) is not None:
        return None
    if host.startswith(own_host + "."):
        return "the requested host's name as a prefix of another domain"
    label = own_host.split(".", 1)[0]
    if host.endswith(own_host) and len(label) >= _MIN_GLUED_LABEL:
        return "the requested host's name glued to another name"
    return None


def _same_site(host: str, port: str, scheme: str, request_host: str) -> bool:
    """True when ``host[:port]`` is the request's host or one of its subdomains, same port."""
    own_host, own_port = _split_authority(request_host)
    default = _DEFAULT_PORTS.get(scheme, "")
    if (port or default) != (own_port or default):
        return False
    return host == own_host or host.endswith("." + own_host)


DETECTOR = SsrfDetector()
