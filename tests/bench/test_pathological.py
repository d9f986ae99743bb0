"""bench/pathological.py: its inputs are what it says, and bad arguments are refused clearly."""

from __future__ import annotations

import json

import pytest
from tests.support.bench_scripts import load_bench_script

pathological = load_bench_script("pathological.py")


def test_the_baseline_is_a_megabyte_of_varied_records() -> None:
    body = pathological.ordinary_json()
    assert pathological.MIB <= len(body) < pathological.MIB + 4096
    records = json.loads(body)
    assert len({record["id"] for record in records}) == len(records) > 1000


def test_an_unknown_shape_is_refused_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        pathological.main(["--shapes", "quote-semicolon,no-such-shape"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no-such-shape" in err and "quote-semicolon" in err
