"""Load a script of bench/ (not a package) as a module, by path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_bench_script(filename: str) -> ModuleType:
    """``bench/<filename>`` as module ``sealgate_bench_<stem>``, registered in ``sys.modules`` first
    (dataclasses look their module up there while the script runs)."""
    name = f"sealgate_bench_{Path(filename).stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
