"""Path traversal and local file inclusion: a value that walks out of the intended directory.

What it blocks:

- ``../`` and ``..\\`` sequences that climb out of a directory, however written: percent-encoded
  once or twice (``%2e%2e%2f``, ``%252e%252e%255c``), overlong UTF-8 (``%c0%ae%c0%af``), IIS
  ``%u002e``, full-width and look-alike dots and slashes (``．．∕``), hex literals (``0x2e``),
  filter-evasion forms (``....//``, ``..;/`` for Tomcat), with a NUL (``..%00/``), and runs of
  ``...`` segments (``/.../.../``: DOS and early Windows read ``...`` as ``../..``).
  Two or more climbs are critical; a single ``../`` counts 4 points (it needs a second sign:
  an encoding, a NUL byte or a sensitive target) and is critical from paranoia 2.
- Absolute or home-relative paths to files attackers read: ``/etc/passwd``, ``/etc/shadow``,
  ``/proc/self/environ``, ``~/.ssh/id_rsa``, ``.aws/credentials``, ``WEB-INF/web.xml``,
  ``C:\\Windows\\win.ini``, ``boot.ini``... Critical when the value *is* such a path (or the
  path follows a traversal or ``file://``); a mention inside a sentence ("cat /etc/hosts shows
  the table") counts only 3 points.
  Beyond the listed files, whole families count: account databases (any ``/etc`` file named
  ``*passwd``/``*shadow``/``ftpusers``...); the configuration of network daemons (anything
  under ``/etc/httpd``, ``/etc/php5``, ``/etc/postfix``, ``/etc/vsftpd.conf``..., and a web
  server's or PHP's main config file wherever it lives: ``/home/apache/httpd.conf``,
  ``/bin/php.ini``); login records and OS identity (``/etc/wtmp``, ``/etc/release``); web-server
  logs (``logs/access.log``, any ``*.log``/``*_log`` in an absolute ``logs`` directory, the target
  of log poisoning; ``/var/adm``, ``/usr/spool``); the same families under the other ``etc`` roots
  (``/usr/local/etc``, ``/private/etc``); any procfs path (``/proc/loadavg``); MySQL logs and
  ``my.ini``; PHP session files. ``etc/passwd`` without the leading slash reads the same, and so
  do ``././.htaccess`` and a plain relative prefix (``member/.htpasswd``).
- Windows, from a drive root (spaces and ``(x86)`` allowed, as in ``C:/Program Files (x86)/``):
  anything in the system directory (``C:/Windows/...``, ``c:WINDOWS/system32``), install answer
  files (``C:/unattend.xml``, ``sysprep.inf``: they hold the admin password), registry hives of
  users (``ntuser.dat``), ``$Recycle.Bin`` and ``System Volume Information``.
- After a traversal, application secrets: ``config.php``, ``_config.php``, ``config.inc.php``,
  ``web.config``, ``install.php``, ``.htpasswd``, ``global.asa``...
- A NUL byte after a file name (``/etc/passwd%00.png``): the classic extension-check bypass,
  4 points.

Not covered here: stream wrappers (``php://filter``, ``phar://``, ``zip://``, ``expect://``)
are code injection (:mod:`~sealgate.detectors.code_injection`); ``file://`` URLs and UNC paths
to other hosts are SSRF (:mod:`~sealgate.detectors.ssrf`).

Not an attack: ``foo../1234``, ``/foo.../1234``, ``/..foo``, "Wait... what", ``1.2..3``,
``a/.../b/.../c`` (lone ``...`` names), ``windows/temp/x`` (no drive), ``logs/app.log`` (relative),
and a bare ``/etc`` file outside the families (``/etc/avahi/avahi-daemon.conf``).

Rule ids: ``traversal-dot-dot``, ``traversal-sensitive-file``, ``traversal-null-byte``.
Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("..%2f..%2fetc%2fpasswd"), "query.file", 1)]
    ['traversal-dot-dot', 'traversal-sensitive-file']
"""

from __future__ import annotations

import re
from typing import Final

from sealgate.detectors._support import excerpt, is_prose
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "TraversalDetector"]

# Look-alike separators NFKC leaves alone; hex-literal spellings some decoders accept.
_LOOKALIKES: Final = str.maketrans({"\u2215": "/", "\u2044": "/", "\u29f8": "/", "\u2216": "\\", "\u29f9": "\\"})
_HEX_LITERAL = re.compile(r"0x(2e|2f|5c)", re.IGNORECASE)
_HEX_CHARS: Final = {"2e": ".", "2f": "/", "5c": "\\"}

# A climb: ".." as a whole path segment (optionally with a Tomcat ";param"), or "....//" and
# "..././", which a filter that deletes "../" once turns back into "../". ".../" alone is a
# directory name.
_CLIMB = re.compile(
    r"""(?:^|(?<=[/\s=:'"(,;|&\[]))(?:\.\.|\.{4,}(?=//)|\.\.\.(?=/\./))(?:;[^/\s]{0,20})?(?=/)"""
    r"""|(?:^|(?<=/))\.\.$"""
    # "/.../.../": DOS and early Windows (and IIS on them) read "..." as "../..". One "..." is a
    # directory name ("file:///.../x.R"); a run of two or more such segments is a climb.
    r"""|(?:^|(?<=/))\.{3}(?=/\.{3}(?:/|$))|(?<=\.\.\./)\.{3}(?=/|$)"""
)
_RAW_CLIMB = re.compile(r"\.\.[/\\]|[/\\]\.\.(?:$|[/\\])|^\.\.$")

# Directory prefixes inside a family are bounded ({0,8} segments) so that a value made of
# thousands of "a/" segments costs linear time, not one backtracking scan per "/".
_SENSITIVE = re.compile(
    r"""(?:
      (?:/usr(?:/local)?|/private|/opt/[\w.-]+)?/etc/(?:passwd|shadow|gshadow|group|master\.passwd|sudoers|hosts|hostname|issue|motd|crontab|fstab
            |mtab|profile|bashrc|environment|resolv\.conf|aliases|shells|inetd\.conf|os-release|lsb-release
            |redhat-release|debian_version|ld\.so\.preload|my\.cnf|php\.ini|(?:ssh|ssl|security|pam\.d
            |mysql|nginx|apache2?|httpd|php\d?|cron\.d|sysconfig|network|kubernetes|docker)/[\w./-]*)
     |(?:/usr(?:/local)?|/private|/opt/[\w.-]+)?/etc/(?:[\w.-]+/){0,8}(?:[\w.-]*(?:passwd|shadow|ftpusers|ftphosts|ftpaccess|ftpchroot|chrootusers)(?:\.\w+)?
            |(?:httpd?|apache\d?|nginx|lighttpd|php[\d.]*(?:\.d)?|proftpd?|pure-?ftpd|vsftpd|wu-ftpd|postfix|mail
               |mysql)(?:[\w.-]*|/[\w./-]+)
            |[\w-]*release|utmp|wtmp|btmp|lastlog|nsswitch\.conf|syslogd?\.conf|apt/sources\.list)(?=$|[\s"'])
     |(?:^|/)(?:[\w.-]+/){0,8}logs?/(?:access|error)[._]log(?=$|[\s"'])
     |/(?:[\w.-]+/){0,8}(?:(?:httpd|apache2?|nginx|lighttpd)\.conf|php[45]?\.ini|my\.(?:cnf|ini)
            |(?:access|error)[._]log|logs?/(?:[\w.-]+/){0,3}[\w-][\w.-]{0,40}[._]log
            |mysql[\w.-]*/(?:[\w.-]+/){0,3}[\w.-]+\.(?:err|log)|filezilla[\w.-]*\.xml|tomcat-users\.xml)(?=$|[\s"'])
     |/(?:var|usr)/(?:adm|spool)(?:/[\w./-]*)?(?=$|[\s"'])|(?:^|/)php[\d.]*/sessions?(?:/|$)
     |(?:/tmp|/var/lib/php[\d.]*(?:/sessions?)?|(?:^|/)php[\d.]*/sessions?)/sess_[\w-]{6,}
     |/boot/grub/[\w./-]+|(?:^|/)(?:[a-z]:/)?(?:windows/)?system32/inetsrv/metabase\.xml
     |/proc/(?:self|thread-self|\d+)/(?:environ|cmdline|maps|smaps|status|stat|mem|mounts|cwd|exe|root|fd(?:/\d+)?
            |net/[\w]+|io|limits|auxv|task)
     |/proc/(?:version|cpuinfo|meminfo|mounts|partitions|kcore|sched_debug|net/(?:tcp|udp|arp|fib_trie|route)|config\.gz)
     |/proc/(?:self|thread-self|\d+|sys|net|interrupts|loadavg|modules|devices|filesystems|swaps|uptime|stat
            |vmstat|diskstats|iomem|ioports|kallsyms|cmdline|keys|key-users|buddyinfo|zoneinfo|slabinfo)(?:/[\w.-]+){0,6}(?=$|[\s"'])
     |/var/log/[\w./-]+|/var/mail/\w+|/var/spool/cron/[\w./-]*|/var/lib/mysql/[\w./-]*
     |/var/run/secrets/[\w./-]+|/run/secrets/[\w./-]+|/root/[\w./-]*
     |/home/[\w.-]+/\.[\w./-]+|/usr/local/(?:etc|apache2?|apps)/[\w./-]*\.conf
     |(?:^|/)\.(?:ssh/(?:id_[\w]+|authorized_keys\d?|known_hosts|config)|bash_history|zsh_history|sh_history
            |mysql_history|psql_history|python_history|bashrc|bash_profile|profile|netrc|pgpass|my\.cnf
            |cshrc|tcshrc|zshrc|forward|rhosts|shosts|logout
            |aws/(?:credentials|config)|azure/[\w./-]*|docker/config\.json|kube/config|git-credentials|gnupg/[\w./-]*
            |htpasswd|htaccess|git/(?:config|head|index)|svn/(?:entries|wc\.db)|hg/hgrc|npmrc|pypirc|env(?:\.\w+)?)
            (?=$|[\s"'])
     |(?:^|/)web-inf/(?:web\.xml|classes/|lib/|[\w.-]+\.(?:xml|properties))|(?:^|/)meta-inf/manifest\.mf
     |(?:^|/)(?:[a-z]:/)?(?:windows|winnt)/(?:win\.ini|system\.ini|system32/(?:drivers/etc/hosts|config/(?:sam|system|security|software))
            |repair/(?:sam|system)|panther/unattend(?:ed)?\.xml|debug/netsetup\.log|iis\d?\.log)
     |(?:^|/)(?:[a-z]:/)?(?:boot\.ini|autoexec\.bat|pagefile\.sys|inetpub/[\w./-]*|xampp/[\w./-]*)
     |(?:^|/)(?:[a-z]:/)?(?:windows|winnt)/system32/inetsrv/config/applicationhost\.config
     |(?:^|/)[a-z]:/?(?:windows|winnt)/[\w$.-]+
     |(?:^|/)[a-z]:/(?:\$recycle\.bin/|system_volume_information/|minint/|(?:[\w.-]+/){0,4}(?:sysprep|unattend(?:ed)?)\.(?:inf|xml|txt))
     |(?:^|/)(?:documents_and_settings|users)/[\w.-]+/ntuser\.(?:dat|ini)
     |(?:^|/)(?:\.|master\.)passwd(?=$|[\s"'])
    )""",
    re.VERBOSE,
)
# Files worth reading once a traversal got out of the web root (too generic to flag alone).
_APP_SECRETS = re.compile(
    r"(?:^|/)(?:wp-config\.php|_?config(?:\.inc)?\.(?:php|asp|aspx|js|json|ini|xml|ya?ml)|configuration\.php"
    r"|settings\.py|local_settings\.py|database\.(?:yml|php|asp)|install\.php|global\.asa|localstart\.asp"
    r"|server\.xml|secrets\.yml|credentials\.json|application\.(?:properties|ya?ml)|web\.config|\.env|id_rsa"
    r"|\.htpasswd|\.htaccess|\.?passwd|\.?shadow|master\.passwd)$"
)
_SLASHES = re.compile(r"/{2,}")
_DOT_SEGMENTS = re.compile(r"/(?:\./)+")
_DRIVE_BEFORE = re.compile(r"(?:^|[\s\"'=])[a-z]:$")
# A value that is a Windows path from a drive root: "Program Files", "Documents and Settings" and
# "(x86)" put spaces and parentheses inside one path.
_DRIVE_VALUE = re.compile(r"^\s*/?[a-z]:/[^\n\"'<>|*?]*$")
_DRIVE_SPACES: Final = str.maketrans({" ": "_", "(": "_", ")": "_"})
# "./" is the directory itself: "././.htaccess" is ".htaccess".
_LEADING_DOTS = re.compile(r"^(?:\./+)+")
# A plain relative path in front of a dotfile or WEB-INF match ("member/.htpasswd", "config/.env"):
# the value names that file as surely as a leading "/" would. Only for those: the directory
# families (/root, /etc, /var/log) mean something at the root, not under "data/root/".
_RELATIVE_PREFIX = re.compile(r"[\w~-][\w.~-]*(?:/[\w.~-]+){0,8}")
_RELATIVE_TARGETS: Final = ("/.", "/web-inf/", "/meta-inf/")
_TOKEN_TAIL = re.compile(r"[^\s\"'=(:,;|&<>]{0,256}$")
_FILE_NAME = re.compile(r"[\w-]\.[A-Za-z0-9]{1,5}$|/")


class TraversalDetector:
    """Path traversal / local file inclusion; see the module docstring."""

    name = "traversal"
    triggers: tuple[str, ...] = (
        "..", "/etc/", "/proc/", "/var/", "/root/", "/home/", "/usr/local/", "/run/secrets", "win.ini",
        "system.ini", "boot.ini", "windows", "winnt", "web-inf", "meta-inf", ".ssh", "_history", ".aws",
        ".htpasswd", ".htaccess", ".git", ".svn", ".env", ".netrc", ".pgpass", ".docker", ".kube",
        "0x2e", "0x2f", "0x5c", "\x00", "%00", "autoexec", "pagefile", "inetpub", "xampp", ".bashrc",
        ".profile", ".npmrc", ".pypirc", ".my.cnf", ".azure", ".gnupg", ".git-credentials", ".hg",
        "\u2215", "\u2044", "etc/", "_profile", ".cshrc", ".tcshrc", ".zshrc", ".forward", ".rhosts",
        ".shosts", ".logout", "access.log", "access_log", "error.log", "error_log", "/boot/", "metabase",
        "httpd.conf", "apache.conf", "apache2.conf", "nginx.conf", "lighttpd.conf", "php.ini", "php4.ini",
        "php5.ini", "my.cnf", "etc\\", "\\boot\\",
        # families: server logs and configs, Windows system and deployment files, account databases
        ".log", "_log", "/spool", "mysql", "my.ini", "filezilla", "tomcat-users", "passwd", "shadow",
        "/session", "\\session", "sess_", "ntuser", "sysprep", "unattend", "$recycle", "system volume", "minint",
    )

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        text = value.decoded
        raw = value.raw
        has_nul = "\x00" in raw or any("\x00" in form for form in value.variants) or "%00" in raw
        if not text:
            return []
        path = _normalize(text)
        findings: list[Finding] = []
        climbs = list(_CLIMB.finditer(path))
        encoded = bool(climbs) and _RAW_CLIMB.search(raw) is None
        tokens = path.split()
        single_token = len(tokens) == 1 or _DRIVE_VALUE.match(path) is not None
        target = _sensitive_target(path, climbs)
        if climbs:
            first, last = climbs[0], climbs[-1]
            end = last.end()
            prose = is_prose(text)
            if encoded or has_nul or target is not None or paranoia >= 2 or (len(climbs) >= 2 and not prose):
                severity = "critical"
            else:
                # One "../", or relative paths in running text (import '../../src/x.css'): 4 points.
                severity = "error"
            how = "encoded " if encoded else ""
            findings.append(
                Finding(self.name, "traversal-dot-dot", f"{how}'../' climbing {len(climbs)} level(s)",
                        severity, location, excerpt(path, first.start(), end + 24))
            )
        if target is not None:
            start, end, anchored = target
            prose = not single_token and not climbs
            severity = "critical" if anchored and not prose else "warning"
            findings.append(
                Finding(self.name, "traversal-sensitive-file", f"path to a sensitive file {path[start:end]!r}",
                        severity, location, excerpt(path, start, end))
            )
        if has_nul and single_token and _FILE_NAME.search(path.split("\x00", 1)[0].rstrip()):
            findings.append(
                Finding(self.name, "traversal-null-byte", "NUL byte truncating a file name", "error",
                        location, excerpt(path, 0, len(path)))
            )
        return findings


def _normalize(text: str) -> str:
    """Lower-case, one separator style, look-alikes and hex literals undone."""
    if not text.isascii():
        text = text.translate(_LOOKALIKES)
    if "0x" in text or "0X" in text:
        text = _HEX_LITERAL.sub(lambda m: _HEX_CHARS[m.group(1).lower()], text)
    return text.replace("\\", "/").lower()


def _sensitive_target(path: str, climbs: list[re.Match[str]]) -> tuple[int, int, bool] | None:
    """``(start, end, anchored)`` of a sensitive file path in ``path``, or ``None``.

    Anchored: the path starts a token, or follows a traversal, ``file://``, ``=`` or a drive.
    """
    if climbs:
        offset = climbs[-1].end()
        tail = _SLASHES.sub("/", path[offset:])
        first = tail.split()[0] if tail.split() else ""
        match = _SENSITIVE.search(tail) or _APP_SECRETS.search(first)
        if match is not None and len(tail) == len(path) - offset:
            return offset + match.start(), offset + match.end(), True
        if match is not None:
            return offset, offset + len(first), True
    # Collapse "//" and "/./" so "/etc//passwd" and "/etc/./passwd" read as "/etc/passwd".
    work = _DOT_SEGMENTS.sub("/", _SLASHES.sub("/", path)) if "/" in path else path
    work = _LEADING_DOTS.sub("", work)  # offsets shift; they only place the excerpt
    if _DRIVE_VALUE.match(work):
        work = work.translate(_DRIVE_SPACES)  # same length: offsets stay
    if work.startswith("etc/"):
        work = "/" + work  # "etc/passwd": the application prepends the root (offsets shift by one)
    loose: tuple[int, int, bool] | None = None
    for match in _SENSITIVE.finditer(work):
        start = match.start()
        before = work[max(0, start - 8) : start]
        anchored = (
            not before
            or before[-1] in " \t\n\"'=(:,;|&<>~"
            or before.endswith("file://")
            or _DRIVE_BEFORE.search(before) is not None
            or (work.startswith(_RELATIVE_TARGETS, start) and _relative_prefix(work, start))
        )
        if anchored:
            return start, match.end(), True
        if loose is None:
            loose = (start, match.end(), False)
    return loose


def _relative_prefix(work: str, start: int) -> bool:
    """True when the token in front of ``start`` is a plain relative path (``member`` in ``member/.htpasswd``)."""
    tail = _TOKEN_TAIL.search(work, max(0, start - 256), start)
    return tail is not None and _RELATIVE_PREFIX.fullmatch(tail.group()) is not None


DETECTOR = TraversalDetector()
