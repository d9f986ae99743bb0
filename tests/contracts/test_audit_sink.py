"""The AuditSink contract, run against every backend (see conftest.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sealgate.errors import StorageError
from sealgate.storage.base import AuditSink
from tests.contracts.storage_contract_helpers import AuditBackend, eventually


def ev(seq: int, request_id: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"seq": seq, "request_id": request_id or f"req-{seq}"}
    event.update(extra)
    return event


def seqs(events: Any) -> list[int]:
    return [e["seq"] for e in events]


async def test_implements_the_protocol(audit_sink: AuditSink) -> None:
    assert isinstance(audit_sink, AuditSink)


async def test_recent_is_newest_first(audit_sink: AuditSink) -> None:
    for i in range(5):
        await audit_sink.write(ev(i))
    await audit_sink.flush()
    assert seqs(await audit_sink.recent(10)) == [4, 3, 2, 1, 0]


async def test_recent_sees_writes_not_yet_flushed(audit_sink: AuditSink) -> None:
    for i in range(3):
        await audit_sink.write(ev(i))
    assert seqs(await audit_sink.recent()) == [2, 1, 0]


async def test_flush_then_more_writes_keep_order(audit_sink: AuditSink) -> None:
    await audit_sink.write(ev(0))
    await audit_sink.flush()
    await audit_sink.write(ev(1))
    await audit_sink.flush()
    await audit_sink.write(ev(2))
    assert seqs(await audit_sink.recent()) == [2, 1, 0]


async def test_limit(audit_sink: AuditSink) -> None:
    for i in range(60):
        await audit_sink.write(ev(i))
    assert seqs(await audit_sink.recent(5)) == [59, 58, 57, 56, 55]
    assert seqs(await audit_sink.recent(1)) == [59]
    assert await audit_sink.recent(0) == []
    assert await audit_sink.recent(-3) == []
    assert seqs(await audit_sink.recent()) == list(range(59, 9, -1))  # default limit is 50
    assert len(await audit_sink.recent(1000)) == 60


async def test_empty_sink(audit_sink: AuditSink) -> None:
    assert await audit_sink.recent() == []
    assert await audit_sink.recent(request_id="nope") == []


# Look-alikes of "req-1": SQL LIKE wildcards, case, whitespace, prefixes, an injection attempt.
LOOK_ALIKES = ["req-1", "req-10", "req_1", "req-%", "REQ-1", "req-1 ", " req-1", "req", "' OR '1'='1", ""]


async def test_request_id_filter_matches_exactly(audit_sink: AuditSink) -> None:
    seq = 0
    expected: dict[str, list[int]] = {rid: [] for rid in LOOK_ALIKES}
    for _round in range(3):
        for rid in LOOK_ALIKES:
            await audit_sink.write({"seq": seq, "request_id": rid})
            expected[rid].insert(0, seq)
            seq += 1
    await audit_sink.flush()
    for rid in LOOK_ALIKES:
        got = await audit_sink.recent(100, request_id=rid)
        assert seqs(got) == expected[rid], rid
        assert all(e["request_id"] == rid for e in got)
    assert await audit_sink.recent(100, request_id="req-2") == []
    assert await audit_sink.recent(100, request_id="%") == []


async def test_request_id_filter_with_limit(audit_sink: AuditSink) -> None:
    for i in range(20):
        await audit_sink.write(ev(i, request_id="a" if i % 2 else "b"))
    assert seqs(await audit_sink.recent(3, request_id="a")) == [19, 17, 15]
    assert seqs(await audit_sink.recent(3, request_id="b")) == [18, 16, 14]
    assert len(await audit_sink.recent(100, request_id="a")) == 10


async def test_events_without_a_string_request_id(audit_sink: AuditSink) -> None:
    await audit_sink.write({"seq": 0})
    await audit_sink.write({"seq": 1, "request_id": 123})
    await audit_sink.write({"seq": 2, "request_id": None})
    assert seqs(await audit_sink.recent()) == [2, 1, 0]
    # Only string request ids are filterable: 123 is not "123".
    assert await audit_sink.recent(request_id="123") == []
    assert await audit_sink.recent(request_id="None") == []


async def test_many_concurrent_writers(audit_sink: AuditSink) -> None:
    tasks, per_task = 10, 100

    async def writer(task: int) -> None:
        for i in range(per_task):
            await audit_sink.write({"request_id": f"t{task}", "task": task, "seq": i})
            if i % 7 == 0:
                await asyncio.sleep(0)

    async def flusher() -> None:
        for _ in range(20):
            await audit_sink.flush()
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(t) for t in range(tasks)), flusher())
    await audit_sink.flush()
    events = await audit_sink.recent(5000)
    assert len(events) == tasks * per_task
    assert {(e["task"], e["seq"]) for e in events} == {(t, i) for t in range(tasks) for i in range(per_task)}
    for task in range(tasks):
        mine = [e["seq"] for e in events if e["task"] == task]
        assert mine == list(range(per_task - 1, -1, -1))  # each writer's order survives
        assert seqs(await audit_sink.recent(3, request_id=f"t{task}")) == [99, 98, 97]


UNICODE_EVENT: dict[str, Any] = {
    "request_id": "ünï-🔒-日本",
    "latin": "Grüße, façade, Ærøskøbing",
    "cjk": "日本語のテキスト",
    "rtl": "עברית والعربية",
    "emoji": "🔒🙂👩‍💻🏳️‍🌈",
    "separators": "a\u2028b\u2029c\u0085d",
    "newlines": "line1\nline2\r\nline3",
    "controls": "tab\there nul\x00here bell\x07 esc\x1b",
    "quotes": "\"double\" 'single' back\\slash",
    "zero_width": "a\u200bb\ufeffc",
    "ключ": {"嵌套": ["värde", 1, 2.5, True, None, {"深": "🙂"}]},
    "numbers": [0, -1, 2**62, 1.5e-300, -0.25],
}


async def test_unicode_and_types_round_trip(audit_sink: AuditSink) -> None:
    await audit_sink.write(UNICODE_EVENT)
    await audit_sink.flush()
    [got] = await audit_sink.recent(5)
    assert got == UNICODE_EVENT
    [by_id] = await audit_sink.recent(5, request_id="ünï-🔒-日本")
    assert by_id == UNICODE_EVENT


async def test_request_id_with_nul_is_stored_and_found(audit_sink: AuditSink) -> None:
    await audit_sink.write({"seq": 0, "request_id": "a\x00b"})
    await audit_sink.write({"seq": 1, "request_id": "ab"})
    assert seqs(await audit_sink.recent(request_id="a\x00b")) == [0]
    assert seqs(await audit_sink.recent(request_id="ab")) == [1]


async def test_lone_surrogates_are_repaired_not_refused(audit_sink: AuditSink) -> None:
    # json.loads('"\\ud800"') produces these; an attacker must not be able to make the
    # audit record of their own request fail.
    await audit_sink.write({"seq": 0, "request_id": "r\ud800", "excerpt": "x\udfffy", "k\ud83d": 1})
    [got] = await audit_sink.recent()
    assert got == {"seq": 0, "request_id": "r\ufffd", "excerpt": "x\ufffdy", "k\ufffd": 1}
    assert seqs(await audit_sink.recent(request_id="r\ud800")) == [0]


@pytest.mark.parametrize(
    "bad",
    [
        {"x": object()},
        {"x": {1, 2}},
        {"x": b"bytes"},
        {1: "int key"},
        {"x": 2**70},
        ["not", "a", "mapping"],
    ],
    ids=["object", "set", "bytes", "int-key", "huge-int", "list"],
)
async def test_non_serialisable_event_is_refused_at_write(audit_sink: AuditSink, bad: Any) -> None:
    await audit_sink.write(ev(0))
    with pytest.raises(TypeError):
        await audit_sink.write(bad)
    await audit_sink.write(ev(1))
    await audit_sink.flush()  # the bad event never reached the buffer, so this succeeds
    assert seqs(await audit_sink.recent()) == [1, 0]


async def test_later_changes_to_the_event_are_not_logged(audit_sink: AuditSink) -> None:
    event: dict[str, Any] = {"request_id": "m", "items": [1], "verdict": "allow"}
    await audit_sink.write(event)
    event["items"].append(2)
    event["verdict"] = "block"
    event["request_id"] = "other"
    [got] = await audit_sink.recent(request_id="m")
    assert got == {"request_id": "m", "items": [1], "verdict": "allow"}
    assert await audit_sink.recent(request_id="other") == []


async def test_large_event(audit_sink: AuditSink) -> None:
    big = "x" * 300_000 + "🙂"
    await audit_sink.write({"seq": 0, "request_id": "big", "body": big})
    await audit_sink.write(ev(1))
    got = await audit_sink.recent(request_id="big")
    assert got[0]["body"] == big
    assert seqs(await audit_sink.recent()) == [1, 0]


async def test_use_outside_open_close_is_an_error(audit_backend: AuditBackend) -> None:
    sink = audit_backend.make()
    with pytest.raises(StorageError):
        await sink.write(ev(0))
    await sink.open()
    await sink.write(ev(1))
    await sink.close()
    with pytest.raises(StorageError):
        await sink.write(ev(2))
    with pytest.raises(StorageError):
        await sink.recent()
    await sink.close()  # idempotent


# -- backends whose events outlive the sink ------------------------------------------------


async def test_close_flushes_and_events_survive_reopen(persistent_audit_backend: AuditBackend) -> None:
    writer = persistent_audit_backend.make(flush_interval=60.0)  # only close() can flush in time
    await writer.open()
    for i in range(25):
        await writer.write(ev(i, request_id="keep" if i % 5 == 0 else None))
    await writer.close()

    reader = persistent_audit_backend.make()
    await reader.open()
    assert seqs(await reader.recent(100)) == list(range(24, -1, -1))
    assert seqs(await reader.recent(100, request_id="keep")) == [20, 15, 10, 5, 0]
    await reader.write(ev(25))
    assert seqs(await reader.recent(2)) == [25, 24]


async def test_background_flush_persists_without_flush_call(persistent_audit_backend: AuditBackend) -> None:
    writer = persistent_audit_backend.make(flush_interval=0.1)
    reader = persistent_audit_backend.make()
    await writer.open()
    await reader.open()
    for i in range(3):
        await writer.write(ev(i))
    # No flush() on the writer: its background task must persist the events by itself.
    got = await eventually(lambda: reader.recent(10), lambda events: len(events) == 3, timeout=10)
    assert seqs(got) == [2, 1, 0]


async def test_flush_threshold_starts_a_flush_early(persistent_audit_backend: AuditBackend) -> None:
    writer = persistent_audit_backend.make(flush_interval=60.0, flush_events=10)
    reader = persistent_audit_backend.make()
    await writer.open()
    await reader.open()
    for i in range(10):
        await writer.write(ev(i))
    started = time.monotonic()
    got = await eventually(lambda: reader.recent(20), lambda events: len(events) == 10, timeout=10)
    assert seqs(got) == list(range(9, -1, -1))
    assert time.monotonic() - started < 30  # far sooner than the 60 s interval


async def test_two_sinks_on_one_store(persistent_audit_backend: AuditBackend) -> None:
    first = persistent_audit_backend.make(flush_interval=0.05)
    second = persistent_audit_backend.make(flush_interval=0.05)
    await first.open()
    await second.open()

    async def write(sink: AuditSink, name: str) -> None:
        for i in range(200):
            await sink.write({"request_id": f"{name}-{i}", "writer": name, "seq": i})
            if i % 10 == 0:
                await asyncio.sleep(0.01)

    await asyncio.gather(write(first, "a"), write(second, "b"))
    await first.flush()
    await second.flush()
    events = await first.recent(1000)
    assert len(events) == 400
    for name in ("a", "b"):
        assert [e["seq"] for e in events if e["writer"] == name] == list(range(199, -1, -1))
    assert seqs(await second.recent(request_id="a-7")) == [7]
