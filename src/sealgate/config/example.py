"""Render ``sealgate.example.yaml`` from the config models, so it documents every option.

The committed file is checked against this output by the test suite; regenerate it with
``sealgate example-config > sealgate.example.yaml``.
"""

from __future__ import annotations

import textwrap
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from sealgate.config.model import SealgateConfig

__all__ = ["render_example"]

_HEADER = """\
# sealgate.example.yaml: every option with its default, generated from the config models.
# Copy it to sealgate.yaml, keep what you change, delete the rest (defaults apply).
# Validate with: sealgate check sealgate.yaml
# Any value can be overridden from the environment: SEALGATE_<SECTION>__<KEY>=value,
# e.g. SEALGATE_UPSTREAM__READ_TIMEOUT=10.
"""


def render_example() -> str:
    """The example config text."""
    lines: list[str] = [_HEADER]
    _render_model(SealgateConfig, 0, lines, top=True)
    return "\n".join(lines).rstrip() + "\n"


def _render_model(model: type[BaseModel], indent: int, lines: list[str], top: bool = False) -> None:
    pad = "  " * indent
    for name, field in model.model_fields.items():
        description = field.description or ""
        if top:
            lines.append("")
        for chunk in textwrap.wrap(description, width=100 - len(pad)):
            lines.append(f"{pad}# {chunk}")
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.append(f"{pad}{name}:")
            _render_model(annotation, indent + 1, lines)
            continue
        default = field.get_default(call_default_factory=True)
        value = _plain(default)
        if value == {} or value == []:
            lines.append(f"{pad}{name}: {'{}' if value == {} else '[]'}")
            continue
        dumped = yaml.safe_dump({name: value}, default_flow_style=False, sort_keys=False, width=100).rstrip()
        for line in dumped.splitlines():
            lines.append(f"{pad}{line}")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list | frozenset | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
