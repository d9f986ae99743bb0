"""Path traversal / LFI: climbs in every encoding, sensitive files, NUL, benign paths and prose."""

from __future__ import annotations

import time

import pytest

from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.normalize import Value
from sealgate.detectors.traversal import DETECTOR


def _score(text: str, location: str = "query.file", paranoia: int = 1) -> int:
    return anomaly_score(f for f in DETECTOR.detect(Value(text), location, paranoia) if f.paranoia <= paranoia)


def _rules(text: str, paranoia: int = 1) -> list[str]:
    return [f.rule_id for f in DETECTOR.detect(Value(text), "query.file", paranoia)]


@pytest.mark.parametrize(
    "payload",
    [
        "../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "..%2f..%2f..%2fetc%2fpasswd",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow",
        "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "..%c0%af..%c0%af..%c0%afetc%c0%afpasswd",
        "%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
        "..%c1%9c..%c1%9cboot.ini",
        "%u002e%u002e%u2215%u002e%u002e%u2215etc%u2215passwd",
        "．．／．．／etc／passwd",
        "....//....//....//etc/passwd",
        "..;/..;/WEB-INF/web.xml",
        "0x2e0x2e/0x2e0x2e/etc/passwd",
        "..%00/..%00/etc/passwd",
        "../../../../../boot.ini%00",
        "../../../../usr/local/apache2/conf/httpd.conf",
        "/../../../././..\\ ../../etc/master.passwd",
        "images/../../../../etc/hosts",
        "file=../../config.php",
    ],
)
def test_traversals_are_critical(payload: str) -> None:
    assert _score(payload) >= 5, _rules(payload)


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/etc/shadow",
        "/proc/self/environ",
        "/proc/self/cmdline",
        "/proc/1/maps",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        ".ssh/id_rsa",
        "/home/alice/.ssh/authorized_keys",
        "~/.aws/credentials",
        "/root/.bash_history",
        "C:\\Windows\\win.ini",
        "c:/windows/system32/drivers/etc/hosts",
        "C:\\boot.ini",
        "WEB-INF/web.xml",
        "/var/log/nginx/access.log",
        "/etc//passwd",
        "/etc/./passwd",
    ],
)
def test_sensitive_files_as_whole_value(path: str) -> None:
    assert "traversal-sensitive-file" in _rules(path)
    assert _score(path) >= 5


def test_nul_byte_after_a_file_name() -> None:
    assert "traversal-null-byte" in _rules("/etc/passwd%00.png")
    assert "traversal-null-byte" in _rules("avatar.php\x00.jpg")


@pytest.mark.parametrize(
    "text",
    [
        "/foo../1234",
        "/foo.../1234",
        "/..foo",
        "Wait... what?",
        "1.2..3",
        "...",
        "....",
        "a.b..c",
        "cat /etc/hosts shows the table",
        "see the docs in /var/www/html",
        "The etc/passwd file is world-readable",
        "C:\\Users\\bob\\Documents\\report.docx",
        "/api/v1/users/42",
        "../images/logo.png",
        "..",
        "import '../../src/index.css' at the top of the entry point so the app picks up the styles",
        "file:///.../my_script.R",
    ],
)
def test_benign_paths_pass(text: str) -> None:
    assert _score(text) < 5, _rules(text)


def test_single_climb_is_four_points_then_critical_at_paranoia_2() -> None:
    (finding,) = DETECTOR.detect(Value("../images/logo.png"), "query.file", 1)
    assert (finding.rule_id, finding.severity) == ("traversal-dot-dot", "error")
    (finding,) = DETECTOR.detect(Value("../images/logo.png"), "query.file", 2)
    assert finding.severity == "critical"


def test_sensitive_path_in_prose_is_a_warning() -> None:
    (finding,) = DETECTOR.detect(Value("cat /etc/passwd to see the accounts"), "body.$.text", 1)
    assert (finding.rule_id, finding.severity) == ("traversal-sensitive-file", "warning")


def test_encoded_single_climb_is_critical() -> None:
    findings = DETECTOR.detect(Value("%2e%2e%2fsecret.txt"), "query.file", 1)
    assert [(f.rule_id, f.severity) for f in findings] == [("traversal-dot-dot", "critical")]


def test_payload_after_padding_and_excerpt() -> None:
    findings = DETECTOR.detect(Value("x" * 100_000 + "/../../etc/passwd"), "body", 1)
    assert anomaly_score(findings) >= 5
    assert all(len(f.excerpt) < 200 for f in findings)


@pytest.mark.parametrize(
    "path",
    [
        "././.htaccess",
        ".\\\\./.\\\\./etc/passwd",
        "member/.htpasswd",
        "/.../.../.../",
        "c:WINDOWS/system32/",
        "C:/windows/panther/unattend/unattend.xml",
        "C:/program files (x86)/xampp/apache/conf/httpd.conf",
        "C:\\Program Files\\Apache Software Foundation\\Apache2.2\\logs\\access.log",
        "C:/users/administrator/ntuser.dat",
        "C:/$recycle.bin/s-1-5-18/desktop.ini",
        "C:/mysql/data/mysql.log",
        "C:/php4/sessions/",
        "/private/etc/httpd/httpd.conf.default",
        "/usr/spool/mqueue/syslog",
        "/proc/net/dev",
        "/logs/pure-ftpd.log",
        "/master.passwd",
    ],
)
def test_held_out_families(path: str) -> None:
    assert _score(path) >= 5, _rules(path)


@pytest.mark.parametrize(
    "text",
    [
        "a/.../b/.../c",
        "loading.../done",
        "C:/Program Files/MyApp/readme.txt",
        "C:/Users/bob/Desktop/todo.txt",
        "windows/temp/notes.txt",
        "logs/app.log",
        "see /var/adm/messages for boot errors",
        "/api/v1/sessions/42",
        "the passwd command changes a password",
        "box-shadow: 0 1px 2px #000",
    ],
)
def test_held_out_look_alikes_pass(text: str) -> None:
    assert _score(text) < 5, _rules(text)


@pytest.mark.parametrize(
    "text",
    ["/mysql/" + "a/" * 50_000 + "x.log", "c:/" + "a/" * 50_000 + "unattend.xml", "/..." * 30_000,
     "C:/" + "a (" * 30_000, "a/" * 50_000 + ".htpasswd"],
)
def test_pathological_paths_stay_fast(text: str) -> None:
    start = time.perf_counter()
    DETECTOR.detect(Value(text), "query.file", 1)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("text", ["data/root/file.txt", "v1/sessions/sess_8f7a6b5c4d", "backup/var/log/app"])
def test_directory_families_need_the_root(text: str) -> None:
    assert _score(text) < 5, _rules(text)
