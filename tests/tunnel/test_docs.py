"""The examples in the tunnel modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from sealgate.tunnel import bhttp, hpke, keys, ohttp


@pytest.mark.parametrize("module", [hpke, bhttp, ohttp, keys], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, raise_on_error=False, report=True)
    assert result.attempted > 0
    assert result.failed == 0
