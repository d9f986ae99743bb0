"""Load sealgate.yaml: YAML → ``SEALGATE_…`` environment overrides → validated, frozen config.

Errors name the file, the line and the fix, one line each, for example::

    sealgate.yaml:7:3: upstream.conect_timeout: unknown key. Did you mean 'connect_timeout'?
    sealgate.yaml:9:20: limits.max_body_bytes: Input should be greater than 0 (got -1).
      Fix: Largest request body accepted, in bytes; larger gets 413. Default: 1048576.

Environment overrides use double underscores between levels:
``SEALGATE_UPSTREAM__READ_TIMEOUT=10``, ``SEALGATE_SERVER__PORT=8081``. Values are parsed as
YAML scalars (``true``, ``10``, ``[a, b]``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sealgate.config.model import SealgateConfig
from sealgate.errors import ConfigError

__all__ = ["ENV_PREFIX", "load_config", "parse_config_text"]

ENV_PREFIX = "SEALGATE_"
_PATH_FIELDS = (("routing", "spec"), ("audit", "path"), ("secrets", "store_path"), ("tunnel", "replay", "path"))

Loc = tuple[str | int, ...]
_SECRET_WORDS = ("dsn", "password", "secret", "token", "key")
"""A value at a location naming one of these is never echoed in an error (it may hold a credential)."""


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> SealgateConfig:
    """Read, override from the environment and validate ``path``. Raises :class:`ConfigError`."""
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{config_path}: no such file. Fix: create it (copy sealgate.example.yaml) or pass another path."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read it: {exc.strerror}") from None
    return parse_config_text(text, str(config_path), env=env, base_dir=config_path.parent)


def parse_config_text(
    text: str,
    source: str = "sealgate.yaml",
    *,
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    overrides: Mapping[Loc, Any] | None = None,
) -> SealgateConfig:
    """Validate YAML ``text`` (named ``source`` in errors); ``overrides`` come from CLI flags."""
    data, lines = _compose(text, source)
    env_lines: dict[Loc, str] = {}
    for loc, value, label in _env_overrides(os.environ if env is None else env):
        _set(data, loc, value)
        env_lines[loc] = label
    for loc, value in (overrides or {}).items():
        _set(data, loc, value)
        env_lines[loc] = "command-line flag"
    if base_dir is not None:
        for loc in _PATH_FIELDS:
            value = _get(data, loc)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                _set(data, loc, str(base_dir / value))
    try:
        return SealgateConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source, lines, env_lines)) from None


def _compose(text: str, source: str) -> tuple[dict[str, Any], dict[Loc, tuple[int, int]]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        context = exc.context_mark
        opened = ""
        if context is not None and (mark is None or context.line != mark.line):
            opened = f" ({exc.context} at line {context.line + 1})"
        raise ConfigError(
            f"{where}: not valid YAML: {exc.problem}{opened}. Fix: check indentation and quoting."
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if node is None:
        return {}, {}
    lines: dict[Loc, tuple[int, int]] = {}
    value = _build(node, (), lines, source)
    if not isinstance(value, dict):
        raise ConfigError(f"{source}:1:1: the top level must be a mapping of sections (server:, upstream:, ...)")
    return value, lines


_SCALARS = SafeConstructor()


def _build(node: Node, loc: Loc, lines: dict[Loc, tuple[int, int]], source: str) -> Any:
    lines[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _SCALARS.construct_object(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{source}:{line}: keys must be plain names")
            key = str(key)
            if key in out:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{source}:{line}: key '{key}' appears twice. Fix: keep one.")
            lines[(*loc, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, (*loc, key), lines, source)
            lines[(*loc, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, (*loc, i), lines, source) for i, item in enumerate(node.value)]
    return _SCALARS.construct_object(node)


def _env_overrides(env: Mapping[str, str]) -> list[tuple[Loc, Any, str]]:
    found: list[tuple[Loc, Any, str]] = []
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split("__"))
        if not all(parts):
            continue
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        found.append((parts, value, f"environment variable {name}"))
    return found


def _set(data: dict[str, Any], loc: Any, value: Any) -> None:
    node: Any = data
    for part in loc[:-1]:
        nxt = node.get(part) if isinstance(node, dict) else None
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[loc[-1]] = value


def _get(data: dict[str, Any], loc: Loc) -> Any:
    node: Any = data
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _format_errors(
    exc: ValidationError, source: str, lines: dict[Loc, tuple[int, int]], env_lines: dict[Loc, str]
) -> str:
    messages: list[str] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        where = _where(loc, source, lines, env_lines)
        if error["type"] == "extra_forbidden":
            messages.append(f"{where}: {dotted}: unknown key.{_suggest(loc)}")
            continue
        got = error.get("input")
        secret_like = any(word in dotted.lower() for word in _SECRET_WORDS)
        hidden = secret_like or isinstance(got, dict | list) or got is None
        shown = "" if hidden else f" (got {_short(got)})"
        msg = error["msg"].removeprefix("Value error, ")
        fix = _fix_for(loc)
        messages.append(f"{where}: {dotted}: {msg}{shown}." + (f"\n  Fix: {fix}" if fix else ""))
    count = len(messages)
    head = f"{source}: {count} problem{'s' if count != 1 else ''} in the configuration:\n"
    return head + "\n".join(messages)


def _where(loc: Loc, source: str, lines: dict[Loc, tuple[int, int]], env_lines: dict[Loc, str]) -> str:
    for i in range(len(loc), -1, -1):
        if loc[:i] in env_lines:
            return f"{source} ({env_lines[loc[:i]]})"
        if loc[:i] in lines:
            line, col = lines[loc[:i]]
            return f"{source}:{line}:{col}"
    return source


def _model_at(loc: Loc) -> tuple[type[BaseModel] | None, str]:
    model: type[BaseModel] | None = SealgateConfig
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None, ""
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    last = loc[-1] if loc else ""
    return model, str(last)


def _suggest(loc: Loc) -> str:
    model, key = _model_at(loc)
    if model is None:
        return ""
    names = list(model.model_fields)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f" Did you mean '{close[0]}'?"
    return f" Fix: remove it; valid keys here: {', '.join(names)}."


def _fix_for(loc: Loc) -> str:
    model, key = _model_at(loc)
    if model is None or key not in model.model_fields:
        return ""
    field = model.model_fields[key]
    default = field.default
    hint = field.description or ""
    if field.default_factory is None and default is not PydanticUndefined and default is not None:
        hint += f" Default: {_short(default)}."
    return hint.strip()


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
