"""Gateway key set: rotation with overlap, key id allocation, JSON storage and its errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealgate.errors import ConfigError
from sealgate.tunnel import hpke, ohttp
from sealgate.tunnel.keys import DEFAULT_OVERLAP_SECONDS, KeyPair, KeySet, KeySetError
from sealgate.tunnel.ohttp import SymmetricSuite

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = 3600


def _clock(moment: datetime) -> Any:
    return lambda: moment.timestamp()


def _roundtrip(keyset: KeySet, config: ohttp.KeyConfig, at: datetime) -> bytes:
    """Encrypt to ``config`` as a client and decrypt with ``keyset`` at time ``at``."""
    msg, client = ohttp.encapsulate_request(config, b"ping")
    inner, ctx = ohttp.decapsulate_request(keyset.decryption_keys(clock=_clock(at)), msg)
    assert inner == b"ping"
    return ohttp.decapsulate_response(client, ohttp.encapsulate_response(ctx, b"pong"))


def test_generate_makes_one_active_key() -> None:
    ks = KeySet.generate(now=T0)
    assert len(ks.keys) == 1
    key = ks.current
    assert 0 <= key.key_id <= 255
    assert key.created_at == T0
    assert key.not_after is None
    assert ohttp.decode_key_configs(ks.key_config_bytes(T0)) == [key.gateway_key.config]
    assert _roundtrip(ks, key.gateway_key.config, T0) == b"pong"


def test_generate_uses_fresh_keys() -> None:
    a, b = KeySet.generate(), KeySet.generate()
    assert a.current.private_key.public_key != b.current.private_key.public_key


def test_rotation_keeps_old_key_during_overlap_and_drops_it_after() -> None:
    ks1 = KeySet.generate(now=T0)
    old_config = ks1.current.gateway_key.config
    rotated_at = T0 + timedelta(days=30)
    ks2 = ks1.rotate(now=rotated_at, overlap_seconds=HOUR)
    new_config = ks2.current.gateway_key.config

    # Both keys are advertised, newest first, and both decrypt during the overlap.
    assert [k.key_id for k in ks2.keys] == [new_config.key_id, old_config.key_id]
    assert ohttp.decode_key_configs(ks2.key_config_bytes(rotated_at)) == [new_config, old_config]
    assert ks2.keys[1].not_after == rotated_at + timedelta(seconds=HOUR)
    during = rotated_at + timedelta(seconds=HOUR - 1)
    assert _roundtrip(ks2, old_config, during) == b"pong"
    assert _roundtrip(ks2, new_config, during) == b"pong"

    # At the end of the overlap the old key stops decrypting, without rebuilding the set.
    after = rotated_at + timedelta(seconds=HOUR)
    with pytest.raises(ohttp.UnknownKeyError):
        _roundtrip(ks2, old_config, after)
    assert _roundtrip(ks2, new_config, after) == b"pong"
    assert ohttp.decode_key_configs(ks2.key_config_bytes(after)) == [new_config]
    assert old_config.key_id not in ks2.decryption_keys(clock=_clock(after))
    assert list(ks2.decryption_keys(clock=_clock(during))) == [new_config.key_id, old_config.key_id]
    assert len(ks2.decryption_keys(clock=_clock(after))) == 1

    # The next rotation after the overlap removes the old key from the set entirely.
    ks3 = ks2.rotate(now=after, overlap_seconds=HOUR)
    assert [k.key_id for k in ks3.keys] == [(new_config.key_id + 1) % 256, new_config.key_id]
    assert ks2.retire_expired(after).keys == (ks2.current,)


def test_rotation_returns_a_new_set_and_leaves_the_old_one_unchanged() -> None:
    ks1 = KeySet.generate(now=T0)
    before = ks1.keys
    ks1.rotate(now=T0 + timedelta(days=1))
    assert ks1.keys == before
    assert ks1.current.not_after is None


def test_rotation_with_zero_overlap_drops_previous_key_at_once() -> None:
    ks = KeySet.generate(now=T0).rotate(now=T0 + timedelta(days=1), overlap_seconds=0)
    assert len(ks.keys) == 1


def test_default_overlap_is_one_day() -> None:
    ks = KeySet.generate(now=T0).rotate(now=T0)
    assert ks.keys[1].not_after == T0 + timedelta(seconds=DEFAULT_OVERLAP_SECONDS) == T0 + timedelta(days=1)


def test_rotation_never_extends_an_existing_expiry() -> None:
    ks = KeySet.generate(now=T0)
    ks = ks.rotate(now=T0 + timedelta(hours=1), overlap_seconds=HOUR)
    first_expiry = ks.keys[1].not_after
    ks = ks.rotate(now=T0 + timedelta(hours=1, minutes=30), overlap_seconds=10 * HOUR)
    assert [k.not_after for k in ks.keys[1:]] == [
        T0 + timedelta(hours=11, minutes=30),
        first_expiry,
    ]


def test_key_id_wraps_and_skips_ids_in_use() -> None:
    key255 = KeyPair.generate(255, now=T0)
    key0 = KeyPair(0, hpke.KemKeyPair.generate(), T0 - timedelta(days=1), T0 + timedelta(days=10))
    ks = KeySet([key255, key0])
    assert ks.current.key_id == 255
    rotated = ks.rotate(now=T0 + timedelta(hours=1), overlap_seconds=HOUR)
    assert rotated.current.key_id == 1  # 0 is still active


def test_all_256_ids_in_use_is_an_error() -> None:
    ks = KeySet.generate(now=T0)
    for step in range(255):
        ks = ks.rotate(now=T0 + timedelta(seconds=step + 1), overlap_seconds=10**6)
    assert len({k.key_id for k in ks.keys}) == 256
    with pytest.raises(KeySetError, match="256"):
        ks.rotate(now=T0 + timedelta(seconds=300), overlap_seconds=10**6)


def test_new_key_is_current_even_if_the_clock_went_backwards() -> None:
    ks = KeySet.generate(now=T0).rotate(now=T0 - timedelta(hours=1), overlap_seconds=2 * HOUR)
    assert ks.current.created_at > ks.keys[1].created_at
    assert ks.keys[1].not_after == T0 + timedelta(hours=1)


@settings(max_examples=50)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 5 * HOUR), st.integers(0, 10 * HOUR)),
        min_size=1,
        max_size=40,
    )
)
def test_key_ids_never_collide_while_active(steps: list[tuple[int, int]]) -> None:
    ks = KeySet.generate(now=T0)
    now = T0
    for advance, overlap in steps:
        now += timedelta(seconds=advance)
        previous = ks.current
        ks = ks.rotate(now=now, overlap_seconds=overlap)
        ids = [k.key_id for k in ks.keys]
        assert len(ids) == len(set(ids))
        assert ks.current.key_id != previous.key_id
        assert ks.current.not_after is None
        # Every key kept is still active and advertised; the mapping resolves each id to its own key.
        active = ks.active(now)
        assert active == ks.keys
        mapping = ks.decryption_keys(clock=_clock(now))
        for key in active:
            assert mapping[key.key_id] is key.gateway_key


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        KeySet.generate(now=datetime(2026, 1, 1))
    ks = KeySet.generate(now=T0)
    with pytest.raises(ValueError, match="timezone"):
        ks.rotate(now=datetime(2026, 1, 2))
    with pytest.raises(ValueError):
        ks.rotate(now=T0, overlap_seconds=-1)


def test_key_set_construction_errors() -> None:
    with pytest.raises(KeySetError):
        KeySet([])
    a = KeyPair.generate(1, now=T0)
    b = KeyPair.generate(1, now=T0 + timedelta(seconds=1))
    with pytest.raises(KeySetError, match="unique"):
        KeySet([a, b])
    with pytest.raises(ValueError):
        KeyPair.generate(256)


def test_keys_are_ordered_newest_first() -> None:
    old = KeyPair.generate(1, now=T0)
    new = KeyPair.generate(2, now=T0 + timedelta(days=1))
    assert KeySet([old, new]).keys == (new, old)


def test_custom_suites_are_advertised() -> None:
    suites = (SymmetricSuite(1, 3),)
    ks = KeySet.generate(now=T0, suites=suites)
    assert ks.current.gateway_key.config.suites == suites
    assert ks.rotate(now=T0).current.suites == suites


def test_reprs_hide_private_keys() -> None:
    ks = KeySet.generate(now=T0).rotate(now=T0)
    secret_hexes = [k.private_key.private_bytes().hex() for k in ks.keys]
    for text in (repr(ks), repr(ks.current), str(ks.keys)):
        for secret in secret_hexes:
            assert secret not in text
    assert ks.current.private_key.public_key.hex() in repr(ks)


# -- JSON ------------------------------------------------------------------------------------


def test_json_round_trip_preserves_keys_and_decryption() -> None:
    ks = KeySet.generate(now=T0).rotate(now=T0 + timedelta(days=1), overlap_seconds=HOUR)
    loaded = KeySet.from_json(ks.to_json())
    assert loaded == ks
    assert hash(loaded) == hash(ks)
    at = T0 + timedelta(days=1)
    for key in ks.keys:
        assert _roundtrip(loaded, key.gateway_key.config, at) == b"pong"
    assert KeySet.from_json(ks.to_json().encode()) == ks


def test_json_document_shape() -> None:
    ks = KeySet.generate(now=T0)
    doc = json.loads(ks.to_json())
    assert doc["version"] == 1
    (item,) = doc["keys"]
    assert item["key_id"] == ks.current.key_id
    assert bytes.fromhex(item["private_key"]) == ks.current.private_key.private_bytes()
    assert item["created_at"] == "2026-01-01T00:00:00+00:00"
    assert item["not_after"] is None
    assert item["suites"] == [[1, 1], [1, 3]]


def test_json_suites_default_and_other_offsets() -> None:
    doc = {
        "version": 1,
        "keys": [
            {
                "key_id": 4,
                "private_key": "11" * 32,
                "created_at": "2026-01-01T02:00:00+02:00",
                "not_after": None,
            }
        ],
    }
    ks = KeySet.from_json(json.dumps(doc))
    assert ks.current.suites == ohttp.DEFAULT_SUITES
    assert ks.current.created_at == T0
    assert ks.current.created_at.tzinfo == timezone(timedelta(hours=2))


GOOD_KEY: dict[str, Any] = {
    "key_id": 4,
    "private_key": "ab" * 32,
    "created_at": "2026-01-01T00:00:00+00:00",
    "not_after": None,
    "suites": [[1, 1]],
}


def _doc(**changes: Any) -> str:
    key = {k: v for k, v in {**GOOD_KEY, **changes}.items() if v is not ...}
    return json.dumps({"version": 1, "keys": [key]})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"version": 2, "keys": []}', "version"),
        ('{"version": true, "keys": []}', "version"),
        ('{"version": 1}', "non-empty list"),
        ('{"version": 1, "keys": []}', "non-empty list"),
        ('{"version": 1, "keys": [], "extra": 1}', "unknown top-level"),
        ('{"version": 1, "keys": [1]}', r"keys\[0\] must be an object"),
        (_doc(key_id=256), r"keys\[0\].key_id"),
        (_doc(key_id=True), r"keys\[0\].key_id"),
        (_doc(key_id="4"), r"keys\[0\].key_id"),
        (_doc(key_id=...), r"keys\[0\].key_id"),
        (_doc(private_key="ab" * 31), "private_key must be 64 hex"),
        (_doc(private_key="zz" * 32), "private_key must be 64 hex"),
        (_doc(private_key=12), "private_key must be 64 hex"),
        (_doc(private_key=...), "private_key must be 64 hex"),
        (_doc(created_at="yesterday"), "created_at must be an ISO 8601"),
        (_doc(created_at="2026-01-01T00:00:00"), "created_at must include a UTC offset"),
        (_doc(created_at=...), "created_at must be an ISO 8601"),
        (_doc(not_after=5), "not_after must be an ISO 8601"),
        (_doc(suites=[]), "suites"),
        (_doc(suites=[[1]]), "suites"),
        (_doc(suites=[[1, "1"]]), "suites"),
        (_doc(suites=[[1, 65535]]), "suites may only"),
        (_doc(surprise=1), "unknown fields"),
    ],
)
def test_json_load_errors_name_the_field(text: str, match: str) -> None:
    with pytest.raises(KeySetError, match=match):
        KeySet.from_json(text)


def test_json_duplicate_key_ids() -> None:
    doc = {"version": 1, "keys": [GOOD_KEY, {**GOOD_KEY, "private_key": "cd" * 32}]}
    with pytest.raises(KeySetError, match="duplicate"):
        KeySet.from_json(json.dumps(doc))


def test_json_load_errors_never_echo_the_private_key() -> None:
    almost = "a1b2c3d4" * 7 + "a1b2c3"  # 62 hex chars: a plausible, truncated secret
    with pytest.raises(KeySetError) as info:
        KeySet.from_json(_doc(private_key=almost))
    assert almost not in str(info.value)
    assert almost[:16] not in str(info.value)
    assert isinstance(info.value, ConfigError)
