"""OS command injection: a value that makes a shell run a second command.

What it blocks: text that, pasted into a Unix shell or ``cmd.exe`` command line, *ends the
intended command and starts another one*. The detector reads the value the way a shell does:

1. It finds the places where a new command starts ("command positions"): after ``;``, ``|``,
   ``||``, ``&``, ``&&``, a newline, inside `` `...` `` and ``$(...)``/``<(...)``.
2. At each, it reads one shell word and undoes the tricks shells allow inside a word (quotes
   ``w'h'o"am"i``, backslashes ``c\\at``, empty expansions ``$@``/``${x}``, ``cmd.exe`` carets
   ``w^hoami``, ``${IFS}`` for a space, brace lists ``{cat,/etc/passwd}``, globs
   ``/???/c?t``, paths ``/usr/bin/id``, ``C:\\Windows\\System32\\cmd.exe``, empty backtick
   pairs ``wh``oami``, backslash-newline continuations). A line break written out as ``\\n`` at a
   command boundary (start or end of the value, next to a separator or a closing quote) is a line
   break: payload lists write it so for applications that unescape it.
3. It decides whether that word is a command: a *tool* name that is not an English word
   (``whoami``, ``wget``, ``powershell``) counts on its own; a command that is also a word
   (``cat``, ``find``, ``type``, ``sleep``) counts only with shell-shaped arguments (options
   ``-la``, paths, redirections, variables, URLs, IP addresses, a number after ``sleep``).
   Unix names are case-sensitive (``Cat`` is not a Unix command); Windows names are not, but a
   Titlecase Windows word (``Hostname``) needs arguments too, as in a table heading.

It also knows ``cmd.exe``'s ``FOR ... IN (...) DO`` and ``IF [NOT] EXIST|DEFINED|ERRORLEVEL|
a==b`` grammar (CRS 932140), and a few shapes that are dangerous anywhere: reverse shells
(``/dev/tcp/``, ``nc -e``), ``curl ... | sh``, encoded or downloaded PowerShell, and a value that
opens with a bash function definition (``() { :;};``, Shellshock). A value that is a whole
command line counts as obfuscated when it is spelled without its own spaces or slashes
(``cat${IFS}/etc/passwd``, ``ping%X:~10,-5%127.0.0.1``, ``cat ${HOME:0:1}etc${HOME:0:1}passwd``).

Not an attack (pass at paranoia 1): ``rock & roll``, ``Tom; Jerry``, ``a|b``, ``cat`` or
``run ls to list files`` in prose, Markdown code spans (``run `ls -la` to list``), a value
that merely *starts* with a command (``cat /etc/hosts shows the table``): without a
separator there is no second command.

Rule ids: ``command-chained-exec`` (separator + command, critical), ``command-substitution``
(`` `...` ``/``$(...)``, critical), ``command-windows-control`` (FOR/IF, critical),
``command-dangerous-shape`` (reverse shell, download-and-run, critical),
``command-obfuscated-word`` (a command word written with shell tricks, critical),
``command-weak-chain`` (separator + word-like command without shell arguments, warning,
paranoia 2), ``command-leading-command`` (a value that is a whole command line, warning,
paranoia 1; critical at paranoia 3).

Running text (eight or more ordinary words, see :func:`~sealgate.detectors._support.is_prose`)
is read as someone *showing* commands: Markdown code, fenced blocks and line-separated commands
count only at paranoia 2 (a complete ```` ``` ```` fenced block does so with or without prose
around it; obfuscated words and dangerous shapes inside still count), and a chained command
counts 4 points instead of 5 (it blocks together with a second sign, such as a sensitive path).
Cost: one regex pass over the separators, then a bounded check (a word of at most 96
characters, arguments up to 256) per plausible command position, with repeated positions
answered from a small memo.

Config: none besides paranoia. Example::

    >>> [f.rule_id for f in DETECTOR.detect(Value("127.0.0.1; cat /etc/passwd"), "query.ip", 1)]
    ['command-chained-exec']
    >>> DETECTOR.detect(Value("rock & roll; Tom; Jerry"), "query.q", 1)
    []
"""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Final

from sealgate.detectors._support import Adder, excerpt, is_prose, plain_prose, prose_words
from sealgate.detectors.base import Finding
from sealgate.detectors.normalize import Value

__all__ = ["DETECTOR", "CommandDetector"]

# --- command vocabulary -------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    """A vocabulary written as a whitespace-separated block (easier to read and extend)."""
    return frozenset(text.split())


# Unix tools whose names are not everyday words: in command position they are a command.
_UNIX_TOOLS: Final = _words(
    """
    ls pwd whoami uname ifconfig netstat wget ncat netcat socat busybox xargs chmod chown chgrp
    chattr mkfifo mknod nohup sudo crontab useradd usermod userdel passwd base64 xxd hexdump
    nslookup uptime lsof killall pkill systemctl iptables ip6tables lsb_release hostname printenv
    getent printf expr eval exec lwp-download lwp-request lwp-mirror msfconsole msfvenom php-cgi
    jrunscript jshell gawk nawk egrep fgrep traceroute whois pgrep chroot iwconfig ifup ifdown
    mkdir rmdir unlink uniq
    """
)
# Unix commands that are also English words, abbreviations or names people list ("python;
# php; docker" in a profile): they need shell-shaped arguments to count.
_UNIX_WORDS: Final = _words(
    """
    cat head tail more less sort cut tr tee touch find locate which whereis type file stat
    w who last finger groups history sleep timeout yes echo true false test exit read cd time
    date cal bc seq rev diff cmp ed make kill ping host fetch ftp git java mail source export
    alias set trap wait watch nice at look split join paste fold fmt column nl pr tac
    id ps rm mv cp ln dd wc od nc su ip sh bash zsh ksh csh tcsh dash curl dig env
    python python2 python3 perl ruby php node nodejs lua telnet ssh scp sftp tftp rsync
    grep sed awk tar zip unzip gzip gunzip bzip2 openssl gpg nmap sqlmap tcpdump docker kubectl
    mysql psql sqlite3 mongo redis-cli apt apt-get yum dnf pip pip3 npm gcc vim vi nano emacs
    strings route arp shutdown reboot halt poweroff service
    """
)
# Windows (cmd.exe / PowerShell) tools, compared case-insensitively.
_WIN_TOOLS: Final = _words(
    """
    cmd cmd.exe command.com powershell powershell.exe pwsh pwsh.exe whoami whoami.exe ipconfig
    systeminfo tasklist taskkill netstat nslookup tracert certutil certutil.exe bitsadmin mshta
    mshta.exe rundll32 rundll32.exe regsvr32 regsvr32.exe wmic wmic.exe schtasks wscript cscript
    msiexec msbuild installutil vssadmin bcdedit wevtutil icacls attrib findstr xcopy robocopy
    hostname qwinsta quser getmac driverquery runas fsutil diskpart forfiles takeown cacls net1
    iex invoke-expression invoke-webrequest iwr start-process new-object invoke-restmethod irm
    wget curl nc.exe ncat.exe psexec psexec.exe reg.exe sc.exe net.exe ping.exe netsh netsh.exe nltest
    dsquery setx
    """
)
_WIN_WORDS: Final = _words(
    """
    type copy move set call start exit echo query route expand erase net ver vol md rd cd dir del
    ren rename more sort find time date title color pause shutdown reg sc ping ftp tftp timeout
    chdir mkdir rmdir arp print assoc ftype path pushd popd
    """
)
# cmd.exe words that PowerShell also runs (its aliases), where "$name" is a variable.
_POWERSHELL_ALIASES: Final = _words(
    """
    type copy move set start echo cd chdir dir del erase ren rename sort md mkdir rd rmdir pushd popd
    more exit cls
    """
)
_DOLLAR_VARIABLE = re.compile(r"\$[{(]?[A-Za-z_@*][\w:]{0,64}[})]?")
# Word-tier commands that are abbreviations, not English words: alone after a separator with
# nothing after them (";id", "|ps", "&dir") they are the classic injection probe, while
# "art;cat" is a tag list.
_PROBES: Final = _words(
    """
    id ps rm mv cp ln dd wc od nc su ip sh bash zsh ksh csh tcsh cd bc ed nl tac seq cmp diff env
    awk sed grep tr dir ver vol md rd del ren
    """
)
# "net user", "net localgroup administrators": net's subcommands are its shell arguments.
_NET_SUBCOMMAND = re.compile(
    r"^\s+(?:user|users|localgroup|group|view|share|use|session|accounts|config|start|stop)\b", re.IGNORECASE
)
# Words that run the *next* word as a command.
_WRAPPERS: Final = frozenset({"sudo", "nohup", "env", "time", "nice", "command", "builtin", "exec", "xargs"})
_BIN_DIRS: Final = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/")
_GLOB_TARGETS: Final = tuple(d + c for d in _BIN_DIRS for c in sorted(_UNIX_TOOLS | _UNIX_WORDS))

# --- scanning -----------------------------------------------------------------------------------
_ALL_NAMES: Final = _UNIX_TOOLS | _UNIX_WORDS | {w.lower() for w in _WIN_TOOLS | _WIN_WORDS}
# Places where a new command starts. "&&"/"||" before "&"/"|" so they are read as one token.
_SEPARATOR = re.compile(r"\|\||&&|[;|&\n\r`]|\$\(|[<>]\(")
# A separator and the word after it (spaces, "(", "{", "@", "!" skipped; "$(" ends the word).
_POSITION = re.compile(
    r"(\|\||&&|[;|&\n\r]|(?<!`)`(?!`)|\$\(|[<>]\()[ (@{!]*((?:[^\s;|&`<>()$]|\$(?!\()|``(?=[^\s;|&`<>()]))*)"
)
_RUN_START = re.compile(r"[\w.|-]*")
_SINGLE_TICK = re.compile(r"(?<!`)`(?!`)")  # a ``` run is a Markdown fence, not a substitution
_IFS = re.compile(r"\$\{IFS\}|\$IFS(?:\$\d)?(?![A-Za-z0-9_])")
# cmd.exe's substring of a variable, "%CommonProgramFiles:~10,1%": payloads pick a space out of it.
_WIN_SUBSTRING = re.compile(r"%[A-Za-z_][\w()]{0,40}:~-?\d{1,4}(?:,-?\d{1,4})?%")
# Expansions that only a shell writes, used to spell a command line without its characters: a
# space ($IFS, %X:~n,m%) or a path (${HOME:0:1} is "/", ${x//junk/} strips padding).
_TRICK = re.compile(
    _IFS.pattern + "|" + _WIN_SUBSTRING.pattern
    + r"|\$\{[A-Za-z_]\w{0,30}(?::\d{1,4}(?::-?\d{1,4})?|//?[^{}\s]{0,60})\}"
)
# "\n" written out (a backslash and an "n") where a line break would end or start a command: at
# the start or end of the value, or next to a separator or a closing quote. Payload lists write
# the line break so for applications that unescape it (a JSON or JavaScript string, "echo -e");
# inside a word ("C:\new", "a\nb") it is left alone.
_ESCAPED_BREAK = re.compile(r"(?:(?<=[;|&'\")])|^)(?:\\[rn]){1,4}|(?:\\[rn]){1,4}(?=[;|&'\"]|$)")
_CONTINUATION = re.compile(r"\\\r?\n")  # backslash-newline: the shell joins the two lines
# Shellshock (CVE-2014-6271): a value that starts with a bash function definition, "() { :;};",
# and a command after it; bash imported such environment values and ran the rest.
_SHELLSHOCK = re.compile(r"\s*\(\s*\)\s*\{[^{}]{0,200}\}\s*;")
_WORD_STOP: Final = frozenset(" \t\n\r;|&`<>()")
_VARIABLE_WORD = re.compile(r"^\$(?:\{[A-Za-z_]\w{0,30}\}|[A-Za-z_]\w{0,30})$")
_FIRST_GAP = re.compile(r"^\s*\S+\s+")
_MEMO_WINDOW: Final = 640  # how far a position's answer can look: word, arguments, FOR/IF body
_MEMO_SIZE: Final = 256  # repeated padding repeats early; a bounded memo keeps memory flat
_SIMPLE_WORD = re.compile(r"[^ \t\n\r;|&`<>()'\"$]+")  # the quote- and expansion-free prefix of a word
_MAX_WORD: Final = 96
_MAX_ARGS: Final = 256
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Inside a word: expansions that produce nothing ($@, $*, ${a}, $(echo), ``), carets, quotes.
_EMPTY_EXPANSION = re.compile(
    r"\$[@*#!?0-9]|\$\{[^{}]{0,32}\}|\$\([^()]{0,40}\)|`[^`]{0,40}`|\$[A-Za-z_][A-Za-z0-9_]{0,20}"
)
_WIN_PATH = re.compile(r"^(?:[a-z]:|%[a-z_]+%|\\\\)[\\/]?", re.IGNORECASE)
_WIN_VAR_COMMAND = re.compile(r"^%(?:comspec|systemroot|windir)%", re.IGNORECASE)

# Shell-shaped arguments: what turns "cat" into a command rather than a noun.
_ARG_EVIDENCE = re.compile(
    r"""(?:^|\s)--?[A-Za-z]              # an option: -la, --help
    |(?:^|[\s=,])(?:~|\.{1,2})?/[\w.*?~-]  # a path: /etc/x, ./x, ~/x, /et*/, PATH=/tmp
    |(?:^|\s)[A-Za-z]:\\                  # a Windows path
    |(?:^|\s)\\\\[\w.]                    # a UNC path
    |(?<![-=<>])>|<(?![-=<>])             # a redirection (not "->", "=>", "<=")
    |\$[{(A-Za-z_@*]                      # a variable or substitution
    |%[A-Za-z_]{2,}%                      # a cmd.exe variable
    |\b(?:https?|ftp|tftp)://             # a URL to fetch
    |\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b  # an IP address
    |(?:^|\s)/[A-Za-z?](?:\s|$)            # a cmd.exe switch: /c /s /?
    |[\w.-]\.(?:sh|py|pl|php|exe|bat|ps1|txt|log|conf|ini)\b  # a script or file name
    """,
    re.VERBOSE,
)
# Nothing a shell would read as a second command, an obfuscated word or a dangerous shape:
# skip the value (most values are "42" or "Vino Rioja").
# _GATE's first alternative alone: one character class, which ``re`` scans several times faster
# than the whole alternation (and it decides most values).
_GATE_CHARS = re.compile(r"[;|&`\n\r$<>'\"\\^{]")
# The characters every command position of _POSITION starts with ("$(", "<(", ">(" aside).
_SEPARATOR_CHARS = re.compile(r"[;|&\n\r`]")
_SHELL_WORD_CHARS = re.compile(r"[/\\$'\"{^%*?\[=`]")  # see _maybe_command
_GLOB_CHARS = re.compile(r"[*?\[]")
_GLOB_MAX_MATCHES: Final = 8  # how many command paths a glob may match and still name one
_GATE = re.compile(
    r"[;|&`\n\r$<>'\"\\^{]|\s[-/]|^\s*(?:for|if)\b|/dev/|\b(?:nc|ncat|netcat|curl|wget|powershell|iex|python|perl"
    r"|mkfifo|sh)\b",
    re.IGNORECASE,
)
# Download-and-run, the way install instructions are written ("curl ... | sh"): critical,
# except inside prose (a README pasted into a text field), where it counts 3 points.
_DOWNLOAD_RUN = re.compile(r"\b(?:curl|wget)\s[^\n;&]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b", re.IGNORECASE)
_FENCE = re.compile(r"`{2,}")
# A Markdown fence line: indentation, three or more backticks, an optional info string ("bash").
# (Tilde fences are left out: "~~~" is a word to a shell, so the lines after it would run.)
_FENCE_LINE = re.compile(r"[ \t]{0,16}(`{3,})([^`\n]{0,60})\r?")
_MAX_BLOCKS: Final = 64
# Every piece of shell-shaped evidence contains one of these (a cheap test before the big one).
_EVIDENCE_CHARS = re.compile(r"[-/\\<>$%:.]")
_NUMBER_ARG = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:[smhd]\b)?")
_NUMERIC_COMMANDS: Final = frozenset({"sleep", "timeout", "ping", "ping.exe"})
# Commands that reach a host: with a DNS name as first argument (after options) they are the
# out-of-band probe ("; ping x1.oast.example ;", "| nslookup a.b.example"). The name is written
# as DNS names are in payloads: lower-case labels, a letter-only top-level label, and at least
# three labels (a collaborator subdomain), so "Dinner & host mary.smith" stays a sentence.
_NETWORK_COMMANDS: Final = frozenset(
    {"ping", "ping.exe", "host", "dig", "nslookup", "curl", "wget", "telnet", "ssh", "ftp", "tftp", "fetch",
     "nc", "ncat", "traceroute", "tracert", "whois"}
)
_HOST_ARG = re.compile(
    r"\s+(?:-{1,2}[A-Za-z][\w=-]{0,20}\s+(?:\d{1,6}\s+)?){0,4}"  # options: -c 3, -n 1, --max-time
    r"[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63}){1,7}\.[a-z]{2,24}\.?(?=\s|$|[;|&'\"`)])"
)

# Dangerous anywhere, even without a separator (the value may be run as a whole).
_DANGEROUS = re.compile(
    r"""/dev/(?:tcp|udp)/[\w.-]+/\d+                                 # bash network redirection
    |\b(?:nc|ncat|netcat)(?:\.exe)?\s+(?:[^\n;|&]{0,80}?\s)?-[a-z]*[ec]\s*[\w/\\.-]*(?:sh|cmd)  # nc -e /bin/sh
    |\bmkfifo\s[^\n]{0,80}\b(?:nc|ncat|telnet|openssl)\b               # fifo reverse shell
    |\b(?:ba|z|k|da)?sh\s+-i\s*(?:[<>]|\d?>&)                          # interactive shell redirected
    |\bpowershell(?:\.exe)?\s[^\n]{0,60}?-(?:e|en|enc|enco|encod|encode|encoded|encodedcommand)\s+[A-Za-z0-9+/]{12,}
    |\b(?:iex|invoke-expression)\s*\(?\s*\(?\s*new-object\s+(?:system\.)?net\.webclient
    |\bnew-object\s+(?:system\.)?net\.webclient\)?\s*\.\s*download(?:string|file|data)\s*\(
    |\bpython[23]?\s+-c\s*["'][^"']{0,200}\bimport\s+(?:socket|subprocess|pty|os)\b
    |\bperl\s+-e\s*["'][^"']{0,200}\b(?:socket|exec)\s*\(
    """,
    re.VERBOSE | re.IGNORECASE,
)

# cmd.exe control statements (CRS 932140): FOR ... %v IN (...) DO and IF [/I] [NOT] ...
_FOR = re.compile(
    r"""for(?:\s*/[dlrf])*                      # switches /d /l /r /f (repeatable)
    (?:\s+[^\s%]\S{0,200}){0,6}?              # /f "options", /r C:\root
    \s+%{1,2}\S{0,32}\s+in\s*\([^\n]{0,512}?\)\s*do\b""",
    re.VERBOSE | re.IGNORECASE,
)
_IF_HEAD = re.compile(r"if(?:\s*/i)?(?:\s+not)?\s+", re.IGNORECASE)
_IF_KEYWORD = re.compile(r"(?:exist|defined|errorlevel|cmdextversion)\s+(\S{1,200})[ \t]+(\S)", re.IGNORECASE)
# One IF operand: "quoted", [bracketed], (parenthesised), {braced} or a bare run.
_IF_OPERAND = r"""(?:"[^"\n]{0,200}"|\[[^\]\n]{0,200}\]|\([^()\n]{0,200}\)|\{[^{}\n]{0,200}\}|[^\s"()\[\]{}=]{1,200})"""
_IF_COMPARE = re.compile(
    rf"""({_IF_OPERAND})[ \t]*(?:==|[ \t](?:equ|neq|lss|leq|gtr|geq)[ \t])[ \t]*=?({_IF_OPERAND})(?:[ \t]+|$)""",
    re.IGNORECASE,
)
_IF_PAREN_COMPARE = re.compile(
    rf"""\(\s*{_IF_OPERAND}\s+(?:equ|neq|lss|leq|gtr|geq)\s+{_IF_OPERAND}\s*\)[ \t]+\S""", re.IGNORECASE
)
# After an IF condition: what in another language would follow instead of a command.
_NOT_A_COMMAND = re.compile(r"^(?:then\b|\{|:|and\b|or\b|&&|\|\|)", re.IGNORECASE)
_CMD_OPERAND = re.compile(r"%|^[\[{(\"]")
_TAIL_ONLY = re.compile(r"[\s;|&'\"#`)]*\Z")
_TAIL_CHARS: Final = frozenset(";|&'\"#`)")


def _tail_start(text: str) -> int:
    """Where the run of :data:`_TAIL_ONLY` characters that ends ``text`` starts.

    Computed once per value: matching ``_TAIL_ONLY`` at every separator rescans that run each
    time, quadratic on a value made of it (a megabyte of ``';``).
    """
    end = len(text)
    while end > 0 and (text[end - 1] in _TAIL_CHARS or text[end - 1].isspace()):
        end -= 1
    return end


class CommandDetector:
    """OS command injection (Unix shells, cmd.exe, PowerShell); see the module docstring."""

    name = "command"
    triggers: tuple[str, ...] = (
        ";", "|", "&", "`", "$(", "\n", "\r", "<(", ">(",
        "if ", "if\t", "if/", "for ", "for\t", "for/",
        "/dev/tcp", "/dev/udp", "nc ", "ncat", "netcat", "mkfifo", "sh -i", "curl", "wget",
        "powershell", "iex", "invoke-expression", "webclient", "python", "perl", "'", '"', "\\", "^",
        # A command word spelled with shell tricks and nothing else (see _TRICK and _GLOB_CHARS):
        # "who$@ami", "cat${IFS}/etc/passwd", "ping%X:~10,-5%127.0.0.1", "/???/??t", "wh``oami".
        "$@", "$*", "${", "$ifs", ":~", "/??", "?/", "``",
    )

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        """Findings for ``value``; see the module docstring for the rules."""
        text = value.decoded
        if not text or _prose_without_command(value) or not (_gate(text) or ":~" in value.raw):
            return []  # _prose_without_command: plain prose with no command name where one would run
        findings: list[Finding] = []
        seen: set[str] = set()
        scan = _prepare(text)

        def add(rule: str, message: str, severity: str, start: int, end: int, level: int = 1) -> None:
            if rule in seen:
                return
            seen.add(rule)
            findings.append(
                Finding(self.name, rule, message, severity, location, excerpt(scan, start, end), level)
            )

        # Whether the value is prose matters only for what follows a separator: computed when
        # needed (most values that reach this point are a User-Agent or a name with a quote).
        prose: bool | None = None
        folded = _fold(scan)
        match = _DANGEROUS.search(scan) if _may_be_dangerous(folded) else None
        if match is not None:
            add("command-dangerous-shape", "reverse shell or download-and-run command",
                "critical", match.start(), match.end())
        elif "|" in folded and ("curl" in folded or "wget" in folded):
            match = _DOWNLOAD_RUN.search(scan)
            if match is not None:
                prose = _is_prose(text)
                add("command-dangerous-shape", "download piped into a shell",
                    "warning" if prose and paranoia < 2 else "critical", match.start(), match.end())
        shellshock = _SHELLSHOCK.match(scan) if scan[0] in " (" else None
        if shellshock is not None:
            add("command-dangerous-shape", "bash function definition before a command (Shellshock)",
                "critical", 0, shellshock.end())
        if prose is None and scan != text:
            # Whether the value reads as running text is a property of what was written: the
            # shell's reading (a "\n" typed in a code sample's string turned into a line break)
            # splits tokens and would tip a borderline paragraph either way.
            prose = _is_prose(text)
        _scan_positions(scan, add, paranoia, prose=prose)
        if "command-obfuscated-word" not in seen and ("$" in text or ":~" in value.raw):
            trick = _leading_trick(text, scan)
            if trick is None and ":~" in value.raw and value.raw != text:
                # "%X:~10,-5%127...": the URL decoder read "%12" as a byte; cmd.exe reads the raw form.
                trick = _leading_trick(value.raw, _prepare(value.raw))
            if trick is not None:
                add("command-obfuscated-word", "command line spelled with shell expansions", "critical",
                    trick.start(), trick.end())
        # cmd.exe variables (%VAR%) can look like percent-escapes to a URL decoder: read the
        # value as received too.
        if "%" in value.raw and value.raw != text and "command-windows-control" not in seen:
            _scan_positions(_prepare(value.raw), add, paranoia, control_only=True, prose=prose)
        return findings


_AFTER_SEMICOLON = re.compile(r"; ([A-Za-z]+)")


def _leading_trick(text: str, scan: str) -> re.Match[str] | None:
    """The first :data:`_TRICK` of a value that starts with a command, before any separator.

    ``cat${IFS}/etc/passwd``, ``ping%X:~10,-5%127.0.0.1``, ``cat ${HOME:0:1}etc${HOME:0:1}passwd``:
    the value is a whole command line (no second command), but one written so that no space or
    slash appears in it, which nobody does except to get past a filter.
    """
    trick = _TRICK.search(text, 0, min(len(text), _MAX_WORD + _MAX_ARGS))
    if trick is None:
        return None
    separator = _SEPARATOR.search(text, 0, trick.start())
    if separator is not None:
        return None  # after a separator: _scan_positions judged that command
    if ":~" in scan:
        # Read as a space only here: in "IF %x:~-1% NEQ ..." the substring is an IF operand.
        scan = _WIN_SUBSTRING.sub(" ", scan)
    start = len(scan) - len(scan.lstrip(" (@{!"))
    if start >= len(scan):
        return None
    word, _raw, _end = _read_word(scan, start)
    return trick if word is not None and _classify(word) is not None else None


def _prose_without_command(value: Value) -> bool:
    """True when ``detect`` surely reports nothing: plain prose (:func:`plain_prose`) with no command.

    Plain prose is its own decoded form, has no "%" (the raw form is not scanned again) and no
    "-", "/" or digit, so no shell argument, path, obfuscation or _DANGEROUS shape but mkfifo's;
    its only separator is ";", always followed by a space and a word. One word alone has no
    arguments, no separator and no FOR/IF statement. Otherwise: the start is not a command
    (:func:`_maybe_leading_command`), and no word after a ";" is a command name or starts a
    FOR/IF statement (the two things _check_position can report for such a word).
    tests/detectors/test_fast_paths.py checks it.
    """
    text = value.raw
    if not plain_prose(text) or "mkfifo" in value.lower:
        return False
    if " " not in text:
        return True
    if _maybe_leading_command(text):
        return False
    if ";" not in text:
        return True
    for match in _AFTER_SEMICOLON.finditer(text):
        if match.group(1).lower() in _ALL_NAMES or (
                text[match.start(1)] in "fFiI" and _windows_control(text, match.start(1)) is not None):
            return False
    return True


def _gate(text: str) -> bool:
    """``_GATE.search(text)``, most often answered by its character class or a few substring tests.

    Each alternative of _GATE after the character class needs "-", "/", a leading "for"/"if" or
    one of :data:`_GATE_WORDS` in the folded text; without them the regex (6 µs on a sentence
    that merely contains "if ") cannot match.
    """
    if _GATE_CHARS.search(text) is not None:
        return True
    folded = _fold(text)
    if not ("-" in folded or "/" in folded or folded.lstrip().startswith(("for", "if"))
            or any(word in folded for word in _GATE_WORDS)):
        return False
    return _GATE.search(text) is not None


_GATE_WORDS: Final = ("nc", "netcat", "curl", "wget", "powershell", "iex", "python", "perl", "mkfifo", "sh")


# What ``re.IGNORECASE`` matches to an ASCII letter besides its other case, in NFKC text (which
# a decoded value is): "ı"/"İ" (i). Folding them keeps the literal pre-checks below exact.
_DOTTED_I: Final = {0x130: "i", 0x131: "i"}


def _fold(text: str) -> str:
    """``text`` lower-cased as :data:`_DANGEROUS` (IGNORECASE) compares it to ASCII letters."""
    return text.lower() if text.isascii() else text.translate(_DOTTED_I).lower()


def _may_be_dangerous(folded: str) -> bool:
    """False when :data:`_DANGEROUS` cannot match: each alternative needs one of these literals.

    The regex tries nine alternatives at every position (25 µs on a browser User-Agent); these
    substring tests take a fraction of a microsecond.
    """
    return (
        "/dev/" in folded
        or (("nc" in folded or "netcat" in folded) and "-" in folded)
        or "mkfifo" in folded
        or ("sh" in folded and "-i" in folded)
        or "powershell" in folded
        or "new-object" in folded
        or ("python" in folded and "-c" in folded)
        or ("perl" in folded and "-e" in folded)
    )


def _prepare(text: str) -> str:
    """The command line a shell would read.

    Tabs and ``${IFS}`` are spaces; a backslash-newline
    joins two lines; a written-out ``\\n`` at a command boundary is a line break (see
    :data:`_ESCAPED_BREAK`).
    """
    if "\t" in text:
        text = text.replace("\t", " ")
    if "$" in text:
        text = _IFS.sub(" ", text)
    if "\\" in text:
        if "\n" in text:
            text = _CONTINUATION.sub("", text)
        if "\\n" in text or "\\r" in text:
            text = _ESCAPED_BREAK.sub("\n", text)
    return text


def _never_prose() -> bool:
    """The answer at the start of a value, where prose does not matter (see _scan_positions)."""
    return False


def _is_prose(text: str) -> bool:
    """True for running text (a comment, a README paragraph), see :func:`is_prose`."""
    return is_prose(text)


def _scan_positions(
    text: str, add: Adder, paranoia: int, control_only: bool = False, prose: bool | None = None
) -> None:
    """Check every command position of ``text``.

    In prose, Markdown code (`` `...` `` spans, fenced blocks) and line-separated commands are
    someone *showing* a command: they count at paranoia 2 only. ``prose`` is computed here
    when ``None`` and a separator needs it.
    """
    # One regex pass yields each separator with the word after it; most words ("a" in "a;a;a")
    # cannot be a command, and skipping them here keeps a value full of separators cheap.
    positions: list[tuple[int, str, int]] = [(0, "", 0)]
    if _SEPARATOR_CHARS.search(text) is not None or "$(" in text or "<(" in text or ">(" in text:
        verdicts: dict[str, bool] = {}
        for match in _positions(text):
            sep = match.group(1)
            word = match.group(2)
            plausible = verdicts.get(word)
            if plausible is None:
                plausible = verdicts[word] = _maybe_command(word)
            if sep == "`" or plausible:
                positions.append((match.end(1), sep, match.start(1)))
    if len(positions) == 1:
        # Only the start of the value: it is never "shown" (no separator, fence or code span
        # before it), prose does not change what is reported there, and nothing repeats.
        if _maybe_leading_command(text):
            _check_position(text, 0, "", 0, add, paranoia, control_only, False, _never_prose, True)
        return
    # Whether the value is prose is asked only where it can change an answer (a backtick, a
    # line break, a fence or code span, a finding's severity), and computed once on first need:
    # a sentence whose ";" is followed by an ordinary word never needs it.
    known_prose = prose

    def is_prose_text() -> bool:
        nonlocal known_prose
        if known_prose is None:
            known_prose = _is_prose(text)
        return known_prose

    # Whether the text has words matters only for a backtick outside prose: counted on first
    # need (a sentence with a ";" or a "|" never needs it).
    has_words: bool | None = None
    fences = [m.span() for m in _FENCE.finditer(text)] if "``" in text else []
    # A complete fenced block ("```bash\nnpm install\n```") shows commands, prose around it or not.
    blocks = _markdown_blocks(text) if "```" in text else []
    ticks = [m.start() for m in _SINGLE_TICK.finditer(text)] if "`" in text else []
    tick_index = {start: i for i, start in enumerate(ticks)}
    memo: dict[tuple[str, bool, bool, bool], tuple[bool, list[tuple[str, str, str, int, int, int]]]] = {}
    # Where the second whitespace-separated token starts: a separator before it has only one
    # token ("8.8.8.8", a closing quote) in front of it.
    first_space = _FIRST_GAP.search(text)
    second_token = first_space.end() if first_space else len(text)
    tail_start = _tail_start(text)
    for pos, sep, sep_start in positions:
        shown = False
        if sep == "`":
            if sep_start not in tick_index:
                continue  # part of a ``` fence
            index = tick_index[sep_start]
            if index % 2 == 1:
                continue  # a closing backtick: what follows is outside the substitution
            close = ticks[index + 1] if index + 1 < len(ticks) else -1
            if close < 0:
                continue  # an unclosed backtick is a shell syntax error, not a substitution
            if is_prose_text() or _in_markdown_markup(text, sep_start, close):
                # Markdown/reST code in running text, or a code span that is a list item's lead,
                # a heading, a link's text or a reST role: markup no shell line carries.
                shown = True
            else:
                if has_words is None:
                    has_words = prose_words(text, 2048) >= 3
                if has_words and _is_markdown_code(text, sep_start, close):
                    continue
        # (the same test as "prose and (...)": each part is a pure function, prose asked last)
        if (sep in ("\n", "\r") or _in_fenced_block(sep_start, fences) or _in_code_span(sep_start, ticks)) and (
                is_prose_text()):
            shown = True
        elif blocks and _in_markdown_block(sep_start, blocks):
            shown = True  # inside a Markdown fenced code block: a command shown, prose around it or not
        # A position whose surroundings were seen before gives the same answer: replay it. This
        # keeps a megabyte of "x|id x|id ..." from costing a full check per repetition.
        single = sep_start <= second_token  # nothing but one token before the separator
        key: tuple[str, bool, bool, bool] | None = None
        if sep_start + _MEMO_WINDOW < len(text):
            tail = sep_start + _MEMO_WINDOW >= tail_start
            key = (text[sep_start : sep_start + _MEMO_WINDOW], shown, tail, single)
            cached = memo.get(key)
            if cached is not None:
                for rule, message, severity, start, end, level in cached[1]:
                    add(rule, message, severity, sep_start + start, sep_start + end, level)
                if cached[0]:
                    return
                continue
        calls: list[tuple[str, str, str, int, int, int]] = []

        def record(rule: str, message: str, severity: str, start: int, end: int, level: int = 1) -> None:
            calls.append((rule, message, severity, start - sep_start, end - sep_start, level))  # noqa: B023
            add(rule, message, severity, start, end, level)

        critical = _check_position(
            text, pos, sep, sep_start, record, paranoia, control_only, shown, is_prose_text, single
        )
        if key is not None and len(memo) < _MEMO_SIZE:
            memo[key] = (critical, calls)
        if critical:
            return  # one critical finding decides; the rest would only repeat it


# The first word as _check_position reads it: after " (@{!", up to what _read_word stops at.
_LEADING_WORD = re.compile(r"[ (@{!]*((?:[^ \t\n\r;|&`<>()$]|\$(?!\()|``(?=[^ \t\n\r;|&`<>()]))*)")


_POSITION_START = re.compile(r"[;|&\n\r`$<>]")  # what every _POSITION match starts with


def _positions(text: str) -> Iterator[re.Match[str]]:
    """``_POSITION.finditer(text)``, tried only where a separator character is.

    _POSITION has no literal prefix, so ``re`` tries its alternation at every character; with a
    few separators (a User-Agent's one ";") matching at each is several times cheaper. Many
    separators: the plain scan.
    """
    starts = [match.start() for match in _POSITION_START.finditer(text, 0, len(text))]
    if len(starts) > 32:
        yield from _POSITION.finditer(text)
        return
    resume = 0
    for start in starts:
        if start < resume:
            continue
        match = _POSITION.match(text, start)
        if match is not None:
            resume = match.end()
            yield match


def _maybe_leading_command(text: str) -> bool:
    """Cheap test: could :func:`_check_position` report anything at the start of ``text``?

    Only if the first word could be a command (:func:`_maybe_command`, which also sees
    quotes, ``$``, paths and globs), a wrapper that runs the next word (``command w'h'oami``),
    or a cmd.exe FOR/IF. The first word of most values ("shop-app/3.2.1", "Renée") is none.
    """
    match = _LEADING_WORD.match(text)  # always matches (everything in it is optional)
    if match is None or (match.end() < len(text) and text[match.end()] not in " \t\n\r;|&`<>"):
        return True  # the word stops at a bracket or "$(": let the full check read it
    if text.startswith("``", match.end()) and match.end() > match.start(1):
        return True  # "wh``oami": an empty substitution inside the word
    word = match.group(1).strip()  # _clean_word strips other whitespace
    first = text[match.start(1) : match.start(1) + 1]
    if first in ("f", "F", "i", "I", "{"):
        return True
    if "/" in word and _SHELL_WORD_CHARS.search(word.replace("/", "")) is None:
        # A plain path-like word ("shop-app/3.2.1", "text/html") is a command only as a path
        # from the root, the current directory or a drive (see _classify_path).
        return word.startswith(("/", "./")) or word[:3].lower() == "c:/"
    return word.lower() in _WRAPPERS or _maybe_command(word)


def _maybe_command(raw: str) -> bool:
    """Cheap test: could the word after a separator be a command (or hide one)?"""
    if not raw:
        return False
    if _SHELL_WORD_CHARS.search(raw) is not None or raw.startswith(("for", "if", "FOR", "IF", "For", "If")):
        return True
    low = raw.lower().rstrip(",.:!?")
    return low in _ALL_NAMES or low.removesuffix(".exe") in _ALL_NAMES


def _in_enumeration(text: str, pipe: int) -> bool:
    """True for a "|" inside ``a|b|c``, ``=a|b``, ``<a|b>``, ``[a|b]``: a list of alternatives."""
    left_part = _RUN_START.match(text[max(0, pipe - 64) : pipe][::-1])
    right_part = _RUN_START.match(text, pipe + 1, pipe + 65)
    left = pipe - (left_part.end() if left_part else 0)
    right = right_part.end() if right_part else pipe + 1
    run = text[left:right]
    if not run or run.startswith("|") or run.endswith("|") or "||" in run:
        return False
    before = text[left - 1] if left > 0 else ""
    after = text[right] if right < len(text) else ""
    if before and before in "=<[{(" and after in ">]}),| \t\n":
        return True
    bounded_left = not before or before.isspace()
    bounded_right = not after or after.isspace() or after in ",.;)"
    if not (run.count("|") >= 2 and bounded_left and bounded_right):
        return False
    # A bare list is alternatives only if none of them is a tool ("x|id|whoami" is a pipeline).
    return not any((_classify(part) or ("", ""))[0] == "tool" for part in run.split("|"))


def _markdown_blocks(text: str) -> list[tuple[int, int]]:
    """The contents of complete Markdown fenced code blocks: (start, end) pairs, in order.

    A block opens with a line that is a fence (three or more backticks, an optional info string
    such as ``bash``) and closes with a later line that is the same fence alone, or with the end
    of the value when that leaves a backtick unpaired. Lines are read with ``str.find``, so the
    cost is linear in the value.
    """
    blocks: list[tuple[int, int]] = []
    opener: tuple[str, int] | None = None  # (fence, the line break before the block's content)
    start = 0
    length = len(text)
    while start < length and len(blocks) < _MAX_BLOCKS:
        end = text.find("\n", start)
        if end < 0:
            end = length
        fence = _FENCE_LINE.fullmatch(text, start, end)
        if fence is not None:
            if opener is None:
                opener = (fence.group(1), end)  # from the line break that ends the fence line
            elif not fence.group(2).strip() and fence.group(1).startswith(opener[0]):
                blocks.append((opener[1], start))
                opener = None
        start = end + 1
    if opener is not None and len(blocks) < _MAX_BLOCKS and text.count("`") % 2 == 1:
        # A block cut off by the end of the value (a paragraph of a longer document). With an odd
        # number of backticks a shell finds an unterminated substitution and runs nothing.
        blocks.append((opener[1], length))
    return blocks


def _in_markdown_block(index: int, blocks: list[tuple[int, int]]) -> bool:
    """True when ``index`` lies inside one of :func:`_markdown_blocks`."""
    return any(first <= index < last for first, last in blocks)


def _in_fenced_block(index: int, fences: list[tuple[int, int]]) -> bool:
    """True when ``index`` lies after an opening ``` fence and before its closing one."""
    if not fences:
        return False
    before = bisect_right(fences, (index, len(fences) + index + 1))  # fences starting at or before index
    return before % 2 == 1 and fences[before - 1][1] <= index


def _in_code_span(index: int, ticks: list[int]) -> bool:
    """True when ``index`` lies between an opening backtick and its closing one."""
    before = bisect_right(ticks, index - 1)  # ticks strictly before index
    return before % 2 == 1 and before < len(ticks)


def _check_position(
    text: str,
    pos: int,
    sep: str,
    sep_start: int,
    add: Adder,
    paranoia: int,
    control_only: bool,
    shown: bool,
    prose: Callable[[], bool],
    single: bool = False,
) -> bool:
    """Check the command position ``pos``; True when a critical finding was added.

    ``prose`` answers whether the whole text is running text (asked only when it matters).
    """
    length = len(text)
    start = pos
    while start < length and text[start] in " (@{!":
        if text[start] == "{" and _looks_like_brace_list(text, start):
            break
        start += 1
    if start >= length:
        return False
    if text[start] in "fFiI":
        control = _windows_control(text, start)
        if control is not None:
            if shown:
                add("command-weak-chain", "cmd.exe FOR/IF statement shown in text", "warning", start, control, 2)
            else:
                add("command-windows-control", "cmd.exe FOR/IF statement", "critical", start, control)
                return True
            return False
    if control_only:
        return False
    word, raw_word, end = _read_word(text, start)
    # Skip "NAME=value" assignments and wrappers (sudo, nohup, env ...) before the command.
    hops = 0
    wrapped = False  # "sudo id": the wrapper is a tool even when the wrapped word is not
    while word is not None and hops < 4 and (_ASSIGNMENT.match(raw_word) or word in _WRAPPERS):
        hops += 1
        wrapped = wrapped or word in _UNIX_TOOLS
        if _ASSIGNMENT.match(raw_word) and (end >= length or text[end] != " "):
            return False  # "a=1&b=2": a query string, not "VAR=x command"
        nxt = end
        while nxt < length and text[nxt] == " ":
            nxt += 1
        if nxt >= length or text[nxt] in _WORD_STOP:
            break
        word, raw_word, end = _read_word(text, nxt)
    if word is None and sep and sep not in ("\n", "\r") and pos == start and _VARIABLE_WORD.match(raw_word):
        # "&&$X", ";${CMD}": the command is whatever the variable holds.
        if shown:
            # "set `$SYSTEMD_LOG_LEVEL` to debug": a variable named in a code span of a sentence.
            add("command-weak-chain", "variable shown in text", "warning", sep_start, end, 2)
            return False
        add("command-chained-exec", f"{sep.strip() or 'newline'!r} followed by a variable as command", "critical",
            sep_start, end)
        return True
    if word is None or not raw_word:
        return False
    if end < length and text[end] == "(" and "$" not in raw_word:
        return False  # "cmp(f1, f2)": a function call; in a shell "cmp(" is a syntax error
    kind = _classify(word)
    if kind is None:
        return False
    tier, platform = kind
    if wrapped:
        tier = "tool"
    args = _arguments(text, end)
    obfuscated = _is_obfuscated(raw_word, word)
    evidence = _has_evidence(word, args, platform)
    if not sep:
        # The value starts with a command: no second command is smuggled in.
        if obfuscated and not (raw_word.startswith("\\") and raw_word[1:] == word):
            add("command-obfuscated-word", f"shell-obfuscated command word {word!r}", "critical", start, end)
        elif tier == "tool" and evidence:
            add("command-leading-command", f"value is a {word!r} command line",
                "critical" if paranoia >= 3 else "warning", start, end + len(args))
        return False
    if sep in ("`", "$(", "<(", ">("):
        rule, message = "command-substitution", f"command substitution running {word!r}"
    else:
        label = sep.strip() or "newline"
        rule, message = "command-chained-exec", f"{label!r} followed by {word!r}"
    # ";id", "8.8.8.8; id", "'; id; '": the word right after the separator, or after a value
    # that is one token (an address, a closing quote), and nothing after it.
    probe = word.lower() in _PROBES and _TAIL_ONLY.match(text, end) is not None
    if probe:
        probe = pos == start or sep in ("\n", "\r") or single
    # "a')|id|('": right after closing a quote or a parenthesis, the value is breaking out of
    # the command line it was pasted into.
    breakout = (
        sep not in ("\n", "\r") and sep_start > 0 and text[sep_start - 1] in "'\")`" and word.lower() in _PROBES
    )
    probe = probe or breakout
    substituted = rule == "command-substitution"
    if sep == "|" and _in_enumeration(text, sep_start):
        return False  # "--mode=auto|fast|off", "<yes|no>": alternatives in a syntax summary
    if shown and not obfuscated:
        add("command-weak-chain", f"command {word!r} shown in text", "warning", sep_start, end, 2)
    elif tier == "tool" or evidence or obfuscated or probe or substituted:
        # In running text a chained command is most often an example ("... | grep x" in a
        # manual): 4 points, so it blocks only together with another sign (a sensitive path).
        # An indented line of a value of three or more lines ("…;\n    gzip $in => $out\n…") is
        # a line of a code listing (a Markdown/POD verbatim block, a changelog example): 4 points
        # as well. A probe ("\n  id") and a value of two lines ("x\n  wget …") stay critical:
        # they are what a newline injection sends.
        listed = (sep in ("\n", "\r") and text.startswith(" ", pos) and not probe
                  and (text.rfind("\n", 0, sep_start) >= 0 or text.find("\n", pos) >= 0))
        severity = "error" if not obfuscated and paranoia < 2 and (listed or prose()) else "critical"
        add(rule, message, severity, sep_start, end)
        return severity == "critical"
    else:
        label = sep.strip() or "newline"
        add("command-weak-chain", f"{label!r} followed by the word {word!r}", "warning", sep_start, end, 2)
    return False


# What a line holds before a code span that is Markdown markup: a list item's marker ("* ",
# "- ", "1. "), a heading ("## "), optionally a link's opening "[" ("#### [`npm pack`](...)").
_MARKUP_LEAD = re.compile(r"[ ]{0,8}(?:[*+-]|\d{1,3}[.)]|#{1,6})[ ]\[?")
_REST_ROLE = re.compile(r"(?:^|[\s(]):[a-z][\w.-]{0,30}:\Z")  # reST ":kw:`type`"
_ROLE_REACH: Final = 34  # the longest role _REST_ROLE takes, with the character before it
_LEAD_REACH: Final = 20  # longer than any lead _MARKUP_LEAD takes


def _in_markdown_markup(text: str, open_at: int, close_at: int) -> bool:
    """True for a code span in Markdown/reST markup: a list item's lead, a heading, a link's text, a role.

    ``* `hostname` {string}``, ``#### [`npm pack`](/commands/npm-pack)``, ``See [`npm cache`][]``,
    ``:kw:`type```. The span must be complete and the markup right before it (the line up to
    it is only the list marker or heading, or a "[" that the span's "]" closes). A span after a
    separator (``;`id```, ``a|`id```) or glued to a word (``*`id```) is not markup.
    """
    if close_at < 0:
        return False
    before = text[open_at - 1] if open_at > 0 else ""
    if before == "[" and text.startswith(("](", "][", "]:"), close_at + 1):
        return True  # a link's text: [`npm pack`](/commands/npm-pack), [`child_process`][]
    if before == ":" and _REST_ROLE.search(text, max(0, open_at - _ROLE_REACH), open_at) is not None:
        return True
    line_start = text.rfind("\n", max(0, open_at - _LEAD_REACH), open_at) + 1
    if line_start == 0 and open_at > _LEAD_REACH:
        return False  # more than a list marker or heading before the span on its line
    return _MARKUP_LEAD.fullmatch(text, line_start, open_at) is not None and (
        before != "[" or text.startswith("]", close_at + 1))


def _is_markdown_code(text: str, open_at: int, close_at: int) -> bool:
    """True for a Markdown code span inside prose (`` run `ls -la` to list ``)."""
    if close_at < 0:
        return False
    before = text[open_at - 1] if open_at > 0 else " "
    after = text[close_at + 1] if close_at + 1 < len(text) else " "
    return (before.isspace() or before in "(\"'") and (after.isspace() or after in ".,;:!?)\"'_/")


def _looks_like_brace_list(text: str, start: int) -> bool:
    close = text.find("}", start, start + _MAX_WORD)
    return close > 0 and "," in text[start:close] and " " not in text[start:close]


def _read_word(text: str, start: int) -> tuple[str | None, str, int]:
    """Read one shell word at ``start``: ``(cleaned word, raw word, end)``."""
    length = len(text)
    if text[start] == "{" and _looks_like_brace_list(text, start):
        close = text.find("}", start)
        first = text[start + 1 : close].split(",", 1)[0]
        return _clean_word(first), "{" + first, start + 1 + len(first)
    simple = _SIMPLE_WORD.match(text, start, min(length, start + _MAX_WORD))
    i = simple.end() if simple else start
    limit = min(length, start + _MAX_WORD)
    while i < limit:
        ch = text[i]
        if ch in "'\"":
            close = text.find(ch, i + 1, limit)
            if close < 0:
                break
            i = close + 1
            continue
        if ch == "$" and i + 1 < length and text[i + 1] in "({":
            close = text.find(")" if text[i + 1] == "(" else "}", i + 2, limit)
            if close < 0:
                break
            i = close + 1
            continue
        if (ch == "`" and i > start and text.startswith("``", i) and i + 2 < limit
                and text[i + 2] not in _WORD_STOP and not text[i + 2].isspace()):
            # "wh``oami": an empty substitution inside the word; "SET`` command" (a reStructuredText
            # literal closing after the word) ends the word there.
            i += 2
            continue
        if ch in _WORD_STOP:
            break
        i += 1
    raw = text[start:i]
    if not raw:
        return None, "", i
    return _clean_word(raw), raw, i


def _clean_word(raw: str) -> str | None:
    """Undo in-word shell obfuscation; ``None`` when nothing is left."""
    if _WIN_VAR_COMMAND.match(raw):
        return "cmd.exe"
    word = _EMPTY_EXPANSION.sub("", raw) if "$" in raw or "`" in raw else raw
    word = word.replace("'", "").replace('"', "").replace("^", "")
    if "\\" in word:
        joined = word.replace("\\", "")
        if _WIN_PATH.match(word) or (
            word.count("\\") >= 2 and "/" not in word and joined.lower() not in _ALL_NAMES
        ):
            # A Windows path runs its last part; "w\\ho\\am\\i" is a shell word with escapes.
            word = word.rsplit("\\", 1)[-1]
        else:
            word = word.replace("\\", "")
    word = word.strip()
    return word or None


def _classify(word: str) -> tuple[str, str] | None:
    """``(tier, platform)`` of a cleaned word: tier ``tool`` or ``word``; ``None`` if no command."""
    if "/" in word:
        return _classify_path(word)
    if word in _UNIX_TOOLS:
        return "tool", "unix"
    if word in _UNIX_WORDS:
        return "word", "unix"
    low = word.lower()
    if low.endswith(".exe"):
        low = low[:-4]
        if low in _WIN_TOOLS or low in _WIN_WORDS:
            return "tool", "windows"
    if low in _WIN_TOOLS or low in _WIN_WORDS:
        titlecase = word[:1].isupper() and not word.isupper()
        tier = "tool" if low in _WIN_TOOLS and not titlecase else "word"
        return tier, "windows"
    return None


def _classify_path(word: str) -> tuple[str, str] | None:
    """Classify a command word that is a path (``/bin/sh``, ``/???/c?t``, ``./x``, ``C:/...``)."""
    if _GLOB_CHARS.search(word) is not None:
        # "/???/??t" names one command; "/*" (a C comment) or "/*/*" names every file. A glob
        # counts when its last part has a literal character and it matches a few commands only.
        base = word.rsplit("/", 1)[-1]
        if len(word) <= 40 and word.startswith("/") and _GLOB_CHARS.sub("", base):
            pattern = re.compile(fnmatch.translate(word))
            matches = sum(1 for target in _GLOB_TARGETS if pattern.match(target))
            if 0 < matches <= _GLOB_MAX_MATCHES:
                return "tool", "unix"
        return None
    base = word.rsplit("/", 1)[-1]
    if not base:
        return None
    if word.startswith(_BIN_DIRS) or word.startswith(("/tmp/", "/dev/shm/", "/var/tmp/")):
        return "tool", "unix"
    if word.startswith("./") and word.count("/") == 1 and len(base) > 1:
        return "tool", "unix"
    if word[:3].lower() == "c:/" or word.startswith("%"):
        low = base.lower().removesuffix(".exe")
        if low in _WIN_TOOLS or low in _WIN_WORDS:
            return "tool", "windows"
    return None


def _is_obfuscated(raw_word: str, word: str) -> bool:
    """True when the raw word needed shell tricks to become the command name.

    A word quoted as a whole (``'test'``) is just quoted; quotes *inside* it (``w'h'oami``)
    are the trick.
    """
    raw_word = raw_word.rstrip(",.:!?")
    if len(raw_word) > 2 and raw_word[0] == raw_word[-1] and raw_word[0] in "'\"":
        raw_word = raw_word[1:-1]
    if "/" in raw_word and _GLOB_CHARS.search(raw_word) is not None:
        return True  # "/???/??t": a glob that only a command path matches (see _classify_path)
    if raw_word == word:
        return False
    return any(ch in raw_word for ch in "'\"^$`{") or ("\\" in raw_word and _WIN_PATH.match(raw_word) is None)


def _arguments(text: str, end: int) -> str:
    """The argument text of a command: up to the next separator, at most 256 characters.

    In a brace list (``{cat,/etc/passwd}``) the commas separate the arguments.
    """
    stop = min(len(text), end + _MAX_ARGS)
    match = _SEPARATOR.search(text, end, stop)
    args = text[end : match.start() if match else stop]
    if args.startswith(","):
        args = args.split("}", 1)[0].replace(",", " ")
    return args


def _has_evidence(word: str, args: str, platform: str) -> bool:
    """True when ``args`` look like shell arguments rather than the rest of a sentence."""
    if platform == "windows" and "$" in args and word.lower() not in _POWERSHELL_ALIASES:
        # cmd.exe reads "$host" literally: a "$" variable is evidence only where PowerShell runs
        # the word too ("type $env:x"). Perl's 'print "$host is alive\n";' is no cmd.exe line.
        args = _DOLLAR_VARIABLE.sub("", args)
    if _EVIDENCE_CHARS.search(args) is not None and _ARG_EVIDENCE.search(args) is not None:
        return True
    if word.lower() in ("net", "net.exe") and _NET_SUBCOMMAND.match(args) is not None:
        return True
    if word.lower() in _NETWORK_COMMANDS and "." in args and _HOST_ARG.match(args) is not None:
        return True
    return word.lower() in _NUMERIC_COMMANDS and _NUMBER_ARG.match(args) is not None


def _windows_control(text: str, start: int) -> int | None:
    """End of a cmd.exe FOR/IF statement starting at ``start``, or ``None``."""
    match = _FOR.match(text, start)
    if match is not None:
        return match.end()
    head = _IF_HEAD.match(text, start)
    if head is None:
        return None
    body = head.end()
    keyword = _IF_KEYWORD.match(text, body)
    if keyword is not None:
        rest = text[keyword.start(2) : keyword.start(2) + 64]
        if keyword.group(2) in "(." or _command_follows(rest):
            return keyword.end()
        return None
    compare = _IF_COMPARE.match(text, body)
    if compare is not None:
        left, right = compare.group(1), compare.group(2)
        rest = text[compare.end() : compare.end() + 64]
        if right.endswith(":"):
            return None  # Python: "if a == b:"
        if not rest.strip(" \t"):
            # "if {%1} == {}" with nothing after: only cmd.exe writes operands like that.
            return compare.end() if _CMD_OPERAND.search(left) or _CMD_OPERAND.search(right) else None
        if _NOT_A_COMMAND.match(rest) or rest[0] in "\r\n":
            return None
        return compare.end()
    paren = _IF_PAREN_COMPARE.match(text, body)
    return paren.end() if paren is not None else None


def _command_follows(rest: str) -> bool:
    """True when ``rest`` starts with a cmd.exe command (what an IF condition runs)."""
    parts = rest.split(None, 1)
    first = parts[0].lstrip("@").lower() if parts else ""
    return first in _WIN_TOOLS or first in _WIN_WORDS or first in ("if", "goto", "cmd", "exit")


DETECTOR = CommandDetector()
