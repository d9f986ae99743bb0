"""The shortcuts that make clean requests cheap must never change an answer.

Each test runs the shortcut against the slow, exact computation it stands in for, on generated
inputs: the engine's one joined probe against one probe per value, lazily built JSON locations
against a direct walk, and each detector's early exit against the full analysis.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealgate.detectors import _support as support
from sealgate.detectors import code_injection, command, normalize, scanner, sqli
from sealgate.detectors.engine import DetectionEngine
from sealgate.detectors.inputs import iter_inputs, json_location
from sealgate.detectors.normalize import Value
from sealgate.pipeline.exchange import Exchange

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SHELL_ATOMS = [
    ";", "|", "||", "&", "&&", "`", "$(", ")", "(", "\n", " ", "  ", "\t", "\x0b", "\xa0", "'", '"', "\\", "^",
    "{", "}", ",", "/", "./", "/bin/", "c:/", "C:\\", "%", "%COMSPEC%", "${IFS}", "*", "?", "[", "=", "-la", "-e",
    "-i", "id", "ls", "cat", "whoami", "wget", "curl", "nc", "sh", "python", "powershell", "iex", "for", "fOr",
    "if", "İf", "ıd", "exist", "in", "do", "sleep", "5", "sudo", "command", "env", "x", "a", "Mozilla/5.0",
    "shop-app/3.2.1", "(iOS 17.4; iPhone14,2)", "Renée", "O'Brien", "/etc/passwd", "http://x/a.sh", "mkfifo",
    "/dev/tcp/1.2.3.4/80", "new-object", "net.webclient", "A=1", "<?php", "base64",
]
shell_text = st.lists(st.sampled_from(SHELL_ATOMS), min_size=1, max_size=10).map("".join)

SQL_WORDS = sorted(
    {w for name in ("LOGIC", "OPERATOR_WORDS", "LITERAL_WORDS", "UNION_WORDS", "STATEMENTS", "CLAUSES",
                    "SQL_FUNCTIONS", "SYSTEM_OBJECTS") for w in getattr(sqli, name) if w.isalpha()}
)
PLAIN = ["a", "b", "O", "Brien", "don", "t", "it", "s", "x", "é", "l", "admin", "Renée", "d", "Arc", "ll", "ve"]
name_text = st.lists(
    st.tuples(st.sampled_from(PLAIN + SQL_WORDS), st.sampled_from(["'", " ", "' ", " '", "''", "-", ". ", ", "])),
    min_size=1, max_size=6,
).map(lambda parts: "".join(word + sep for word, sep in parts).strip())


@SETTINGS
@given(text=name_text, kind=st.sampled_from(["value", "name"]))
def test_sqli_word_apostrophe_exit_matches_the_full_analysis(text: str, kind: str) -> None:
    for variant in (text, text.upper()):
        value = Value(variant, kind)
        probe = sqli.probe_texts(value.raw, value.lower, value.compact)
        if not sqli._only_word_apostrophes(value, probe):
            continue
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(sqli, "_only_word_apostrophes", lambda *_: False)
            for paranoia in (1, 2, 3):
                assert sqli.DETECTOR.detect(Value(variant, kind), "query.q", paranoia) == [], variant


def test_sqli_word_apostrophe_exit_applies_to_names() -> None:
    value = Value("Renée O'Brien")
    assert sqli._only_word_apostrophes(value, sqli.probe_texts(value.raw, value.lower, value.compact))
    value = Value("x' or 'a'='a")
    assert not sqli._only_word_apostrophes(value, sqli.probe_texts(value.raw, value.lower, value.compact))


@SETTINGS
@given(text=shell_text, kind=st.sampled_from(["value", "header", "name"]), paranoia=st.integers(1, 3))
def test_command_shortcuts_match_the_full_analysis(text: str, kind: str, paranoia: int) -> None:
    fast = sorted((f.rule_id, f.severity, f.excerpt) for f in command.DETECTOR.detect(Value(text, kind), "q", paranoia))
    assert command._gate(text) is (command._GATE.search(text) is not None)
    if not command._may_be_dangerous(command._fold(text)):
        assert command._DANGEROUS.search(text) is None
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(command, "_maybe_leading_command", lambda _: True)
        patched.setattr(command, "_may_be_dangerous", lambda _: True)
        slow = sorted((f.rule_id, f.severity, f.excerpt) for f in command.DETECTOR.detect(Value(text, kind), "q",
                                                                                         paranoia))
    assert fast == slow


@SETTINGS
@given(text=st.one_of(st.text(max_size=80), shell_text))
def test_value_fast_paths_match_the_reference_forms(text: str) -> None:
    value = Value(text)
    forms = [text]
    for _ in range(normalize.MAX_ROUNDS):
        decoded = normalize._decode_once(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    last = forms[-1]
    reference = (normalize.unicodedata.normalize("NFKC", last) if not last.isascii() else last)
    assert value.decoded == reference.translate(normalize._INVISIBLE)
    assert value.compact == re.sub(r"\s+", " ", normalize.collapse_sql_comments(value.lower))


VALUE_ATOMS = [*SHELL_ATOMS, "%27", "&lt;", "\\u003c", "+ADw-", "/*", "\x00"]
values_strategy = st.lists(
    st.tuples(st.sampled_from(["query.a", "header.x", "body.$.b", "path[0]"]),
              st.one_of(st.text(max_size=30), st.lists(st.sampled_from(VALUE_ATOMS), max_size=6).map("".join)),
              st.sampled_from(["value", "name", "header"])),
    min_size=1, max_size=8,
)


@SETTINGS
@given(items=values_strategy)
def test_joined_probe_finds_the_same_candidates_as_one_probe_per_value(items: list[tuple[str, str, str]]) -> None:
    engine = DetectionEngine()
    texts = [raw for _, raw, _ in items]
    kinds = [kind for _, _, kind in items]
    joined, _ = engine._candidates(texts, kinds)
    each, _ = engine._candidates_each(texts, kinds)
    assert {i: s for i, s in joined.items() if s} == {i: s for i, s in each.items() if s}


def _reference_json(node: Any, location: str, out: set[tuple[str, str, str]], depth: int = 0) -> None:
    """The JSON walk as it was before locations became lazy (recursive, locations built eagerly)."""
    if depth >= 64:
        out.add((location, repr(node), "value"))
        return
    if isinstance(node, dict):
        for key, child in node.items():
            child_location = json_location(location, key)
            out.add((child_location + ":key", key, "name"))
            if isinstance(child, str):
                out.add((child_location, child, "value"))
            elif isinstance(child, (dict, list)):
                _reference_json(child, child_location, out, depth + 1)
    else:
        for index, child in enumerate(node):
            if isinstance(child, str):
                out.add((f"{location}[{index}]", child, "value"))
            elif isinstance(child, (dict, list)):
                _reference_json(child, f"{location}[{index}]", out, depth + 1)


json_doc = st.recursive(
    st.one_of(st.text(max_size=5), st.integers(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(["a", "b c", "a'b", "$ne", "1", "", "é", "x-y"]),
                                               children, max_size=4)),
    max_leaves=25,
)


@SETTINGS
@given(doc=st.one_of(st.dictionaries(st.sampled_from(["a", "b", "a b"]), json_doc, max_size=4),
                     st.lists(json_doc, max_size=4)))
def test_lazy_json_locations_match_a_direct_walk(doc: Any) -> None:
    body = json.dumps(doc).encode()
    exchange = Exchange(method="POST", path="/x", raw_path=b"/x", headers=[("content-type", "application/json")],
                        body=body)
    expected: set[tuple[str, str, str]] = set()
    _reference_json(doc, "body.$", expected)
    found = [item for item in iter_inputs(exchange) if item[0].startswith("body")]
    assert set(found) == expected


AGENT_ATOMS = ["burp suite", "burpsuite", "owasp zap", "owasp-zap", "owasp_zap", "nmap nse", "nmap-nse", "vega/",
               "prog.customcrawler", "qualys was", "nikto", "sqlmap", "İ", " ", "/", "x", "a", "1", "-", "_", "."]


@SETTINGS
@given(text=st.lists(st.sampled_from(AGENT_ATOMS), min_size=1, max_size=8).map("".join))
def test_scanner_agent_gate_never_hides_a_tool(text: str) -> None:
    folded = scanner._fold(text)
    assert scanner._MAY_NAME_AGENT(folded) or scanner._SCANNER_AGENTS.search(folded) is None
    for tool in ("Burp Suite", "OWASP ZAP", "Nmap Scripting Engine", "prog.CustomCrawler", "sqlmap/1.7"):
        assert scanner._MAY_NAME_AGENT(scanner._fold(f"Mozilla/5.0 {tool}"))


def test_a_nul_in_a_name_or_value_keeps_the_numbering() -> None:
    exchange = Exchange(method="GET", path="/", raw_path=b"/", query_string=b"test%00=test1&jsessionid=%00x",
                        headers=[("host", "x"), ("user-agent", "sqlmap/1.7")])
    findings = DetectionEngine().inspect(exchange)
    assert {(f.detector, f.location) for f in findings} >= {("scanner", "header.user-agent"),
                                                           ("session", "query.jsessionid")}


# --- prose fast paths (sqli fragments/anywhere, code_injection gates, command) -----------------

PROSE_WORDS = [
    "the", "gradient", "descent", "is", "a", "method", "of", "finding", "minimum", "function", "at", "every",
    "step", "we", "compute", "loss", "and", "or", "not", "if", "it", "too", "large;", "small.", "rates,", "into",
    "select", "union", "from", "where", "order", "by", "sleep", "exec", "process", "require", "constructor",
    "module", "exports", "Function", "eval", "java", "runtime", "handler", "session.", "error_log", "@@version",
    "don't", "\"quoted\"", "`code`", "#tag", "--", "/*", "*/", "x--y", "a/*b", "(s)", "f(x)", "=", "1", "0x41",
    "it's", "\x01", "\xa0", "ı", "requıre", "proceſs", "K", "=>", "this.constructor", "module.exports=",
    "load_file(", "sleep(5)", "benchmark(1,", "xp_cmdshell", "dbms_lock.sleep(", "waitfor delay '0:0:5'",
    "base64_decode", "Call_User_Func_Array", "shell_exec(", "rO0ABXNy", "aCeD0005", "\xac\xed\x00\x05", "ACED0005",
]
PROSE_GAPS = [" ", " ", " ", "  ", "\n", ", ", "\t"]
prose_text = st.lists(st.tuples(st.sampled_from(PROSE_WORDS), st.sampled_from(PROSE_GAPS)), min_size=1,
                      max_size=120).map(lambda parts: "".join(word + gap for word, gap in parts))
long_prose = st.lists(st.sampled_from(PROSE_WORDS), min_size=60, max_size=120).map(" ".join)


@SETTINGS
@given(text=st.one_of(prose_text, long_prose))
def test_sqli_token_count_bound_is_a_lower_bound(text: str) -> None:
    for candidate in (text, text.strip(), Value(text).compact.strip()):
        if sqli._too_many_tokens(candidate):
            assert len(sqli.tokenize(candidate, 80)) > 64, candidate


def test_sqli_token_count_bound_applies_to_the_benchmark_article() -> None:
    with open("bench/wrk/article.json", encoding="utf-8") as handle:
        body = json.load(handle)["body"]
    assert sqli._too_many_tokens(Value(body).compact.strip())
    assert not sqli._too_many_tokens("a " * 40 + "'" + " b" * 40)  # a quote before the 65th space


@SETTINGS
@given(text=st.one_of(prose_text, long_prose, st.text(max_size=60)))
def test_sqli_anywhere_gate_never_hides_a_match(text: str) -> None:
    for candidate in (text, text.lower(), Value(text).compact):
        if sqli._ANYWHERE.search(candidate) is not None:
            assert sqli._ANYWHERE_MAY_MATCH(candidate), candidate


@SETTINGS
@given(text=st.one_of(prose_text, long_prose), kind=st.sampled_from(["value", "name"]), paranoia=st.integers(1, 3))
def test_sqli_prose_shortcuts_match_the_full_analysis(text: str, kind: str, paranoia: int) -> None:
    fast = sqli.DETECTOR.detect(Value(text, kind), "body.$.body", paranoia)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sqli, "_too_many_tokens", lambda _: False)
        patched.setattr(sqli, "_ANYWHERE_MAY_MATCH", lambda _: True)
        slow = sqli.DETECTOR.detect(Value(text, kind), "body.$.body", paranoia)
    assert fast == slow


@SETTINGS
@given(text=st.one_of(prose_text, long_prose, st.text(max_size=60)))
def test_code_injection_literal_gates_equal_their_regexes(text: str) -> None:
    lower = text.lower()
    for name in ("_INI_GATE", "_JAVA_CLASS_GATE", "_JAVA_GADGET_GATE", "_NODE_GATE"):
        regex = getattr(code_injection, name)
        assert getattr(code_injection, name + "_MATCH")(lower) is (regex.search(lower) is not None), name
    if code_injection._JAVA_EXPRESSION_GATE.search(lower) is not None:
        assert code_injection._JAVA_EXPRESSION_NEEDS(lower)
    assert code_injection._PHP_NAMES_MATCH(lower) or code_injection._PHP_NAMES.search(lower) is None
    fast, slow = code_injection._java_serialized(text), code_injection._JAVA_SERIALIZED.search(text)
    assert (fast and fast.span()) == (slow and slow.span())
    if text.isascii() and "aced0005" not in lower:
        assert code_injection._JAVA_SERIALIZED_HEX.search(text) is None
    # The _node literal gates: each regex matches only where its gate lets it run.
    checks = [
        (code_injection._NODE_PROCESS, code_injection._node_may_match(text, lower, ("require", "process"))),
        (code_injection._NODE_SANDBOX, code_injection._node_may_match(text, lower, ("constructor",))),
        (code_injection._NODE_THIS_CONSTRUCTOR, "constructor" in text),
        (code_injection._NODE_DYNAMIC, "(" in text),
        (code_injection._NODE_IIFE, "(" in text),
        (code_injection._NODE_FUNCTION, "(" in text),
        (code_injection._NODE_EXPORTS, "exports" in text),
    ]
    for regex, allowed in checks:
        assert allowed or regex.search(text) is None, regex.pattern


@SETTINGS
@given(text=st.one_of(prose_text, long_prose), paranoia=st.integers(1, 3))
def test_code_injection_prose_gates_match_the_full_analysis(text: str, paranoia: int) -> None:
    fast = code_injection.DETECTOR.detect(Value(text), "body.$.body", paranoia)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(code_injection, "_node_may_match", lambda *_: True)
        patched.setattr(code_injection, "_JAVA_EXPRESSION_NEEDS", lambda _: True)
        patched.setattr(code_injection, "_PHP_NAMES_MATCH", lambda _: True)
        patched.setattr(code_injection, "_java_serialized", code_injection._JAVA_SERIALIZED.search)
        for name in ("_INI_GATE", "_JAVA_CLASS_GATE", "_JAVA_GADGET_GATE", "_NODE_GATE"):
            regex = getattr(code_injection, name)
            patched.setattr(code_injection, name + "_MATCH", lambda t, r=regex: r.search(t) is not None)
        slow = code_injection.DETECTOR.detect(Value(text), "body.$.body", paranoia)
    assert fast == slow


@SETTINGS
@given(text=st.one_of(prose_text, shell_text, st.lists(st.sampled_from(SHELL_ATOMS + PROSE_WORDS), max_size=30)
                      .map(" ".join)), paranoia=st.integers(1, 3))
def test_command_lazy_prose_matches_the_eager_answer(text: str, paranoia: int) -> None:
    lazy = command.DETECTOR.detect(Value(text), "body.$.body", paranoia)
    original = command._scan_positions

    def eager(text: str, add: Any, paranoia: int, control_only: bool = False, prose: bool | None = None) -> None:
        original(text, add, paranoia, control_only, command._is_prose(text) if prose is None else prose)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(command, "_scan_positions", eager)
        assert command.DETECTOR.detect(Value(text), "body.$.body", paranoia) == lazy


def _looks_encoded_reference(token: str) -> bool:
    """_support._looks_encoded without its one-case shortcut."""
    if support._HEX_ONLY.match(token):
        return False
    uppers = len(support._UPPER.findall(token, 0, 64))
    lowers = len(support._LOWER.findall(token, 0, 64))
    if uppers >= 2 and lowers >= 2:
        return True
    return support._DIGIT_OR_SYMBOL.search(token) is not None and (uppers + lowers) > 0


@SETTINGS
@given(token=st.one_of(st.text(max_size=80), st.text(alphabet="abcXYZ019+/_-éÉß", max_size=80),
                       st.sampled_from(PROSE_WORDS)))
def test_looks_encoded_shortcut_matches_the_reference(token: str) -> None:
    assert support._looks_encoded(token) is _looks_encoded_reference(token)


plain_sentence = st.lists(
    st.tuples(st.sampled_from(PLAIN + SQL_WORDS + ["the", "gradient", "descent", "msdasql", "information_schema"]),
              st.sampled_from([" ", " ", ", ", ". ", "; ", " (", "' "])),
    min_size=1, max_size=20,
).map(lambda parts: "".join(word + gap for word, gap in parts).strip())


@SETTINGS
@given(text=st.one_of(plain_sentence, prose_text), kind=st.sampled_from(["value", "name"]))
def test_sqli_plain_sentence_shortcut_matches_the_fragment_analysis(text: str, kind: str) -> None:
    value = Value(text, kind)
    if not sqli._plain_sentence(value.compact.strip()):
        return
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sqli, "_plain_sentence", lambda _: False)
        patched.setattr(sqli, "_too_many_tokens", lambda _: False)
        for paranoia in (1, 2, 3):
            assert sqli.DETECTOR._fragments(Value(text, kind), paranoia) == [], text


def test_sqli_plain_sentence_shortcut_applies_to_sentences_only() -> None:
    assert sqli._plain_sentence("a practical introduction to gradient descent, learning rates and convergence.")
    assert not sqli._plain_sentence("select name from users where id in the table")  # mostly SQL words
    assert not sqli._plain_sentence("a b c d e f")  # six words: the short-value rules need tokens
    assert not sqli._plain_sentence("a b c d e f g it's")


# --- plain-prose exits (_support.plain_prose; sqli, command, code_injection; base64 tokens) ------

PLAIN_PROSE_REFERENCE = re.compile(r"[A-Za-z]+(?:[,.;:!?]? [A-Za-z]+)*[,.;:!?]?")


@SETTINGS
@given(text=st.one_of(st.text(alphabet="aZb ,.;:!?-1_'\n\t", max_size=40), prose_text, st.text(max_size=40)))
def test_plain_prose_is_its_reference_regex(text: str) -> None:
    assert support.plain_prose(text) is (PLAIN_PROSE_REFERENCE.fullmatch(text) is not None)


# Words plain prose may hold that the detectors care about: SQL vocabulary and catalog names,
# command names, IF/FOR grammar, code-injection gate words, base64-looking words.
PLAIN_WORDS = [
    "the", "gradient", "descent", "is", "a", "method", "We", "Python", "It", "name", "users", "password", "admin",
    "and", "or", "xor", "not", "like", "select", "union", "all", "from", "where", "order", "by", "group", "drop",
    "table", "insert", "into", "delete", "exec", "execute", "truncate", "alter", "create", "null", "sysobjects",
    "mysql", "master", "dual", "msdasql", "openrowset", "version", "user", "sleep", "if", "If", "for", "exist",
    "defined", "equ", "neq", "del", "whoami", "ls", "cat", "id", "sudo", "nice", "time", "env", "command", "net",
    "python", "perl", "nc", "mkfifo", "sh", "curl", "wget", "ping", "passthru", "phpinfo", "lazymap", "handler",
    "templatesimpl", "process", "global", "mainmodule", "constructor", "this", "class", "classloader", "java",
    "KztAAU", "KztAAUAbCd", "ZXZhbC", "SGVsbG8", "UNION", "SELECT", "Whoami", "IF",
]
PLAIN_GAPS = [" ", " ", " ", ", ", ". ", "; ", "; ", ": ", "! ", "? "]
plain_text = st.lists(st.tuples(st.sampled_from(PLAIN_WORDS), st.sampled_from(PLAIN_GAPS)), min_size=1,
                      max_size=80).map(lambda parts: "".join(word + gap for word, gap in parts).rstrip(" "))
ARTICLE_BODY = (
    "Gradient descent is an iterative method for finding the minimum of a function. At every step we compute the"
    " gradient of the loss; if it is too small training takes a very long time"
)


@SETTINGS
@given(text=st.one_of(plain_text, plain_text.map(lambda t: f"{ARTICLE_BODY} {t}")),
       kind=st.sampled_from(["value", "name", "header"]), paranoia=st.integers(1, 3))
def test_plain_prose_exits_match_the_full_analysis(text: str, kind: str, paranoia: int) -> None:
    detectors = (sqli.DETECTOR, command.DETECTOR, code_injection.DETECTOR)
    fast = [d.detect(Value(text, kind), "body.$.body", paranoia) for d in detectors]
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sqli, "_prose_without_sql", lambda _: False)
        patched.setattr(command, "_prose_without_command", lambda _: False)
        patched.setattr(code_injection, "plain_prose", lambda _: False)
        patched.setattr(support, "_TWO_CAPITALS", re.compile(""))  # matches anywhere: no early exit
        slow = [d.detect(Value(text, kind), "body.$.body", paranoia) for d in detectors]
    assert fast == slow, text


@SETTINGS
@given(text=st.one_of(plain_text, st.text(alphabet="aAbBzZ019+/_- =", max_size=60), st.text(max_size=40)))
def test_b64_token_exit_never_hides_a_token(text: str) -> None:
    fast = list(support.b64_decoded_tokens(text))
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(support, "_TWO_CAPITALS", re.compile(""))
        assert list(support.b64_decoded_tokens(text)) == fast


# Attacks written as plain prose, alone and (all but the short-value rules) inside the benchmark
# article: each exit must let them through.
SHORT_VALUE_ONLY = {"or name like something", "drop table users; now",
                    "select name from sysobjects where name like a"}
PLAIN_ATTACKS = [
    (sqli, "please note the union select password from users", "sqli-union"),
    (sqli, "We said: union select password, email from customers.", "sqli-union"),
    (sqli, "or name like something", "sqli-boolean"),
    (sqli, "drop table users; now", "sqli-stacked"),
    (sqli, "select name from sysobjects where name like a", "sqli-fragment"),
    (command, "thanks for the help; whoami", "command-chained-exec"),
    (command, "nice day today; ls", "command-chained-exec"),
    (command, "hello; sudo reboot", "command-chained-exec"),
    (command, "okay; if exist boot del everything", "command-windows-control"),
    (command, "mkfifo pipe then nc host", "command-dangerous-shape"),
    (code_injection, "call passthru now", "code_injection-php-function-name"),
    (code_injection, "the lazymap gadget", "code_injection-java-gadget"),
    (code_injection, "global. process. mainmodule", "code_injection-node-process-access"),
    (code_injection, "constructor. constructor", "code_injection-node-sandbox-escape"),
    (code_injection, "the class. classloader here", "code_injection-java-expression"),
    (code_injection, "KztAAUabcd", "code_injection-java-serialized-object"),
]


@pytest.mark.parametrize(("module", "attack", "rule"), PLAIN_ATTACKS)
def test_attacks_in_plain_prose_are_still_found(module: Any, attack: str, rule: str) -> None:
    texts = [attack]
    if attack not in SHORT_VALUE_ONLY:
        texts += [f"{ARTICLE_BODY}; {attack}", f"{attack} {ARTICLE_BODY}"]
    for text in texts:
        assert support.plain_prose(text)
        found = {f.rule_id for f in module.DETECTOR.detect(Value(text), "body.$.body", 3)}
        assert rule in found, text


def test_plain_prose_exits_apply_to_the_benchmark_article() -> None:
    with open("bench/wrk/article.json", encoding="utf-8") as handle:
        article = json.load(handle)
    for field in ("title", "summary", "body"):
        value = Value(article[field])
        assert sqli._prose_without_sql(value) and command._prose_without_command(value), field
        assert support.plain_prose(value.raw) and not code_injection._PROSE_CODE_MATCH(value.lower), field
    assert command._prose_without_command(Value(article["tags"][3]))  # "python": one word, nothing after it
    assert list(support.b64_decoded_tokens(article["body"])) == []


def _brute_force_candidates(detectors: list[Any], probe: str) -> set[int]:
    """The detectors with a trigger in ``probe``, by plain substring search."""
    from sealgate.detectors.prefilter import detector_triggers

    found: set[int] = set()
    for index, detector in enumerate(detectors):
        triggers = detector_triggers(detector)
        if triggers is None or any(trigger in probe for trigger in triggers):
            found.add(index)
    return found


@pytest.mark.parametrize("size", [60_000, 70_000, 300_000])
def test_large_probes_find_the_same_candidates_as_a_substring_search(size: int) -> None:
    """Above 64 KiB the prefilter scans value by value (set of words per value): same answer."""
    from sealgate.detectors import all_detectors
    from sealgate.detectors.prefilter import Prefilter

    detectors = list(all_detectors())
    prefilter = Prefilter(detectors)
    flood = ("\\r\\n" * size)[:size]
    probes = [" 42 ", f" {flood} ", " 1' or 1=1-- ", " ", f" {'x' * (size // 3)}<script> ",
              " ../../etc/passwd ", " plain words only "]
    got = prefilter.candidates(probes)
    assert got == [_brute_force_candidates(detectors, probe) for probe in probes]
    assert got[0] == set() and got[2] and got[4]  # the oracle itself is not vacuous


def test_a_megabyte_of_statement_separators_costs_linear_time() -> None:
    """The command detector's tail test ran once per separator over the rest of the value
    (quadratic: a megabyte of "';" cost 13-18 s of CPU). Compared against a value a quarter
    the size, the ratio stays near 4 (quadratic would give 16)."""
    import time

    detector = command.DETECTOR

    def cost(n: int) -> float:
        value = Value("';" * n, "value")
        start = time.process_time()
        detector.detect(value, "query.q", 1)
        return time.process_time() - start

    cost(1000)  # warm-up
    small = min(cost(2_000) for _ in range(3))
    large = min(cost(8_000) for _ in range(3))
    assert large < 9 * small, (small, large)
