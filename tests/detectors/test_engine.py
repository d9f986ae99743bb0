"""The detection engine: scoring, paranoia, skipping typed values, prefilter, bounded time."""

from __future__ import annotations

import json
import time

import pytest

from sealgate.detectors.base import Finding
from sealgate.detectors.engine import DetectionEngine, anomaly_score
from sealgate.detectors.normalize import Value
from sealgate.detectors.prefilter import Prefilter
from sealgate.pipeline.exchange import Exchange

from . import detectors_available


class _Fake:
    """A detector reporting a fixed finding when the value contains its marker."""

    def __init__(self, name: str, marker: str, severity: str = "critical", paranoia: int = 1,
                 triggers: tuple[str, ...] | None = None) -> None:
        self.name = name
        self.marker = marker
        self.severity = severity
        self.level = paranoia
        self.calls = 0
        if triggers is not None:
            self.triggers = triggers

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        self.calls += 1
        if self.marker in value.lower:
            return [Finding(self.name, f"{self.name}-rule", "m", self.severity, location, value.raw[:10], self.level)]
        return []


def test_score_counts_each_rule_once_at_its_highest_severity() -> None:
    findings = [
        Finding("a", "r1", "m", "warning", "query.x", "e"),
        Finding("a", "r1", "m", "critical", "query.y", "e"),
        Finding("b", "r2", "m", "notice", "query.x", "e"),
    ]
    assert anomaly_score(findings) == 5 + 2


def test_threshold_and_severity() -> None:
    weak = _Fake("weak", "x", severity="warning")
    engine = DetectionEngine([weak], threshold=5)
    assert not engine.assess([("query.q", "x", "value")]).blocked
    other = _Fake("other", "x", severity="notice")
    assert DetectionEngine([weak, other], threshold=5).assess([("query.q", "x", "value")]).blocked


def test_paranoia_filters_findings() -> None:
    pl2 = _Fake("p", "x", paranoia=2)
    assert DetectionEngine([pl2], paranoia=1).inspect_value("x") == []
    assert len(DetectionEngine([pl2], paranoia=2).inspect_value("x")) == 1
    with pytest.raises(ValueError):
        DetectionEngine([pl2], paranoia=4)


def test_skip_typed_locations_and_exclude() -> None:
    fake = _Fake("f", "x")
    engine = DetectionEngine([fake])
    inputs = [("query.id", "x", "value"), ("query.id:name", "id", "name")]
    assert engine.inspect(inputs, skip={"query.id"}) == []
    assert len(engine.inspect(inputs)) == 1
    assert DetectionEngine([fake], exclude={"f"}).inspect(inputs) == []
    assert DetectionEngine([fake], exclude={"f:f-rule"}).inspect(inputs) == []


def test_prefilter_skips_detectors_whose_triggers_are_absent() -> None:
    gated = _Fake("gated", "zz", triggers=("zz",))
    always = _Fake("always", "zz")
    engine = DetectionEngine([gated, always])
    engine.inspect([("query.a", "hello", "value"), ("query.b", "world", "value")])
    assert gated.calls == 0 and always.calls == 2
    # Triggers are matched on the decoded text too.
    assert len(engine.inspect([("query.a", "%7A%7A", "value")])) == 2
    assert gated.calls == 1


def test_prefilter_maps_hits_to_their_value() -> None:
    gated = _Fake("g", "'", triggers=("'",))
    prefilter = Prefilter([gated])
    assert prefilter.candidates(["a", "b'", "c"]) == [set(), {0}, set()]
    assert prefilter.candidates(["a", "b", "x'"], owners=[0, 1, 0], count=2) == [{0}, set()]


def test_long_values_are_inspected_in_windows() -> None:
    fake = _Fake("f", "needle", triggers=("needle",))
    engine = DetectionEngine([fake], max_value_chars=4096)
    padded = "a" * 100_000 + "needle" + "b" * 50_000
    findings = engine.inspect_value(padded)
    assert len(findings) == 1  # deduplicated across overlapping windows


@pytest.mark.skipif(not detectors_available("sqli", "xss"), reason="detectors missing")
def test_exchange_end_to_end() -> None:
    from sealgate.detectors import sqli, xss

    engine = DetectionEngine([sqli.DETECTOR, xss.DETECTOR])
    attack = Exchange(method="GET", path="/articles", raw_path=b"/articles",
                      query_string=b"articleId=1%3B%20DROP%20TABLE%20articles%3B%20--",
                      headers=[("host", "x")])
    result = engine.assess(attack)
    assert result.blocked and result.findings[0].location == "query.articleId"
    assert result.findings[0].to_log()["rule_id"] == "sqli-stacked"
    assert not engine.assess(attack, skip={"query.articleId"}).blocked
    clean = Exchange(method="POST", path="/c", raw_path=b"/c",
                     headers=[("host", "x"), ("content-type", "application/json")],
                     body=json.dumps({"comment": "I'd select the union option; it's < 3 euros"}).encode())
    assert not engine.assess(clean).blocked


@pytest.mark.skipif(not detectors_available(), reason="a detector module is missing")
def test_megabyte_of_nasty_input_in_bounded_time() -> None:
    from sealgate.detectors import all_detectors

    engine = DetectionEngine(all_detectors(), paranoia=3)
    nasty = ("'\"<a onx=(/*--" * 8000) + ("%25%32%37" * 20000) + ("((((((((" * 20000) + ("{{${" * 20000)
    nasty = (nasty * 2)[:1_000_000]
    start = time.process_time()
    engine.inspect([("body", nasty, "body")])
    elapsed = time.process_time() - start
    # Generous bound (shared CI machines): the point is linear time, not speed.
    assert elapsed < 30.0, elapsed


class _CountingDetector:
    """Flags a header value containing "evil"; counts its calls and the hosts it saw."""

    name = "counting"
    triggers: tuple[str, ...] = ("evil", "gecko")

    def __init__(self) -> None:
        self.calls = 0
        self.hosts: list[str] = []

    def detect(self, value: Value, location: str, paranoia: int) -> list[Finding]:
        from sealgate.detectors.context import current_context

        self.calls += 1
        context = current_context()
        self.hosts.append(context.host if context else "")
        if "evil" not in value.lower:
            return []
        return [Finding("counting", "evil", "evil", "critical", location, "evil")]


def _ua_exchange(user_agent: str, host: str = "api.example") -> Exchange:
    return Exchange(method="GET", path="/a", raw_path=b"/a", headers=[("host", host), ("user-agent", user_agent)])


def test_repeated_header_values_are_judged_once_with_the_same_findings() -> None:
    detector = _CountingDetector()
    engine = DetectionEngine([detector])
    for _ in range(3):
        assert engine.inspect(_ua_exchange("Mozilla/5.0 (KHTML, like Gecko)")) == []
        found = engine.inspect(_ua_exchange("evil-bot/1.0"))
        assert [(f.rule_id, f.location) for f in found] == [("evil", "header.user-agent")]
    assert detector.calls == 2  # once per distinct value, not once per request


def test_the_header_cache_is_keyed_by_request_context() -> None:
    detector = _CountingDetector()
    engine = DetectionEngine([detector])
    engine.inspect(_ua_exchange("evil-bot/1.0", host="a.example"))
    engine.inspect(_ua_exchange("evil-bot/1.0", host="b.example"))
    engine.inspect(_ua_exchange("evil-bot/1.0", host="a.example"))
    assert detector.hosts == ["a.example", "b.example"]


def test_the_header_cache_is_bounded() -> None:
    from sealgate.detectors.engine import HEADER_CACHE_ENTRIES

    detector = _CountingDetector()
    engine = DetectionEngine([detector])
    for number in range(HEADER_CACHE_ENTRIES + 200):
        engine.inspect(_ua_exchange(f"evil-bot/{number}"))
    assert len(engine._header_cache) == HEADER_CACHE_ENTRIES
    first = detector.calls
    engine.inspect(_ua_exchange("evil-bot/0"))  # the oldest was dropped: judged again
    assert detector.calls == first + 1


def test_cached_findings_match_a_fresh_engine_for_real_detectors() -> None:
    agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
              "sqlmap/1.7.2#stable (https://sqlmap.org)", "() { :; }; /bin/bash -c 'id'", "${jndi:ldap://x/a}"]
    engine = DetectionEngine()
    for _ in range(2):
        for agent in agents:
            expected = DetectionEngine().inspect(_ua_exchange(agent))
            assert engine.inspect(_ua_exchange(agent)) == expected
    assert DetectionEngine().inspect(_ua_exchange(agents[1]))  # the comparison includes real findings
