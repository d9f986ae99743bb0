"""Request validation (the positive model): every request must match its OpenAPI operation.

Blocks, with a 400 ``application/problem+json`` listing each violation, requests whose
parameters or body break the operation's declared contract:

- **parameters** — path, query, header, cookie: required, OpenAPI ``style``/``explode``
  (form, spaceDelimited, pipeDelimited, deepObject, simple, label, matrix), strict coercion of
  text to the declared type (``?articleId=1; DROP TABLE articles; --`` is not an integer),
  repeated single-valued parameters (HTTP parameter pollution), and, by default, query
  parameters the operation does not declare;
- **bodies** — a Content-Type allow-list per operation (an undeclared type gets **415**), a
  required body, JSON (``application/json``, ``+json``), ``application/x-www-form-urlencoded``,
  ``multipart/form-data`` (text fields validated, files checked for presence only), XML
  (best effort, see :mod:`sealgate.validation.bodies`) and ``text/*`` with a string schema;
  malformed JSON/XML/multipart is a 400 with the parser's reason;
- **schemas** — types, formats (date, date-time, time, email, uuid, uri, ipv4, ipv6, hostname...,
  plus the ranges of ``int32``/``int64``), ``pattern``, lengths, ``enum``/``const``, bounds,
  ``minItems``/``maxItems``/``minProperties``/``maxProperties``/``uniqueItems``, composition,
  OpenAPI 3.0 ``nullable`` and 3.1 type arrays, and a nesting depth limit;
- **strict mode** (default on): an object schema that declares ``properties`` rejects undeclared
  fields unless it says ``additionalProperties`` itself (stops mass assignment such as
  ``"admin": true``), and ``readOnly`` properties may not be sent.

Each violation names its location (``query.articleId``, ``path.articleId``, ``header.x-tenant``,
``cookie.session``, ``body.$.items[3].qty``, ``body.title`` for form fields) and a ≤ 40 character
escaped excerpt of the value; the list is capped (``max_violations``).

The validators are compiled once per operation at startup (jsonschema-rs, see
:mod:`sealgate.validation.schema` for why); a request only pays for parsing, coercion and one
``is_valid`` per phase. Values proven safe by type (integers, enums, UUIDs, dates, safe anchored
patterns — :mod:`sealgate.validation.typed`) are handed to the injection detectors, which skip
them: ``exchange.state["validation"] = {"typed": {"query.limit", "body.$.items[0].sku", ...}}``
(parameters and form fields of any safe type; JSON body values only when they are strings, since
the detectors never inspect JSON numbers). Only values that passed are listed, also in detect mode.
``"literal"`` holds the locations whose text the spec itself fixes, which the detectors skip too:
the literal path segments of the matched template (``path[0]``), the declared query parameter
names (``query.limit:name``), and the whole ``path`` when its parameters are all typed and valid.

Config::

    validation:
      enabled: true
      mode: block               # or detect: record violations in the audit event, forward anyway
      strict: true              # undeclared JSON/form fields and readOnly fields are violations
      reject_unknown_query: null  # null: same as strict; true/false to choose separately
      formats: true
      max_depth: 32
      max_violations: 20

Per route (``routes:`` in sealgate.yaml or ``x-sealgate`` on the operation), read at startup::

    routes:
      "POST /api/v1/articles": {validation: {strict: false, mode: detect}}

Example: with ``articleId: {type: integer}`` declared as a query parameter,
``GET /legacy/articles?articleId=1;%20DROP%20TABLE%20articles;%20--`` is answered::

    400 {"type": ".../request-validation", "violations": [{"location": "query.articleId",
         "message": "expected integer", "keyword": "type", "excerpt": "1; DROP TABLE articles; --"}], ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sealgate.errors import ConfigError
from sealgate.openapi.document import OpenAPIDocument
from sealgate.pipeline.exchange import Exchange
from sealgate.pipeline.verdict import Verdict
from sealgate.validation.operation import CompiledOperation, Options, Run, compile_operation
from sealgate.validation.schema import SchemaCompiler

__all__ = ["RequestValidationProtection", "RouteValidationSettings", "ValidationConfig"]


class ValidationConfig(BaseModel):
    """``validation:`` in sealgate.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Validate requests against the OpenAPI spec (needs routing.spec).")
    mode: Literal["block", "detect"] = Field(
        "block", description="block: answer 400/415 problems; detect: record the violations in the "
        "audit event and forward the request anyway."
    )
    strict: bool = Field(
        True, description="Reject fields an object schema does not declare when it declares properties "
        "and says nothing about additionalProperties (mass assignment), readOnly fields in requests, "
        "and a body on an operation that declares none.",
    )
    reject_unknown_query: bool | None = Field(
        None, description="Reject query parameters the operation does not declare; null follows strict."
    )
    formats: bool = Field(
        True, description="Check string formats (date, date-time, email, uuid, uri, ipv4, ipv6...)."
    )
    max_depth: int = Field(32, ge=1, le=1000, description="Deepest nesting of JSON/XML containers accepted.")
    max_violations: int = Field(
        20, ge=1, le=500,
        description="Most violations listed in one problem response (a longer list is cut and marked truncated).",
    )


class RouteValidationSettings(BaseModel):
    """The ``validation`` part of a route's settings; unset fields take the global value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = Field(None, description="Switch validation off or on for this route.")
    mode: Literal["block", "detect"] | None = Field(None, description="block or detect on this route.")
    strict: bool | None = Field(None, description="Strict unknown-field handling on this route.")
    reject_unknown_query: bool | None = Field(None, description="Reject undeclared query parameters on this route.")
    formats: bool | None = Field(None, description="Check string formats on this route.")
    max_depth: int | None = Field(None, ge=1, le=1000, description="Nesting depth limit on this route.")


@dataclass(frozen=True, slots=True)
class _Entry:
    op: CompiledOperation
    mode: str


class RequestValidationProtection:
    """Validates each request against its operation; see the module docstring."""

    name = "request_validation"

    def __init__(
        self,
        config: ValidationConfig,
        document: OpenAPIDocument,
        route_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.config = config
        self.document = document
        overrides = route_settings or {}
        compilers: dict[tuple[bool, bool], SchemaCompiler] = {}
        self._entries: dict[str, _Entry] = {}
        for route in document.routes:
            merged = {**route.settings, **overrides.get(route.key, {})}
            settings = _route_settings(route.key, merged)
            enabled = settings.enabled if settings.enabled is not None else config.enabled
            if not enabled:
                continue
            strict = settings.strict if settings.strict is not None else config.strict
            unknown = settings.reject_unknown_query
            if unknown is None:
                unknown = config.reject_unknown_query if config.reject_unknown_query is not None else strict
            formats = settings.formats if settings.formats is not None else config.formats
            options = Options(strict=strict, reject_unknown_query=unknown, formats=formats,
                              max_depth=settings.max_depth or config.max_depth)
            compiler = compilers.get((strict, formats))
            if compiler is None:
                compiler = SchemaCompiler(document.raw, document.version, strict=strict, formats=formats,
                                          source=document.source)
                compilers[(strict, formats)] = compiler
            op = compile_operation(route, compiler, options, document.raw)
            self._entries[route.key] = _Entry(op, settings.mode or config.mode)

    def operation(self, route_key: str) -> CompiledOperation | None:
        """The compiled validators of a route (``"GET /pets/{petId}"``), or None if not validated."""
        entry = self._entries.get(route_key)
        return entry.op if entry is not None else None

    async def on_request_headers(self, exchange: Exchange) -> Verdict | None:
        """Check the parameters before the body is read; start the typed-location set."""
        entry = self._entries.get(exchange.route.key)
        if entry is None:
            return None
        typed: set[str] = set()
        state: dict[str, Any] = {"typed": typed}
        exchange.state["validation"] = state
        run = Run(self.config.max_violations)
        state["literal"] = entry.op.check_params(exchange, run, typed)
        if run.violations:
            return self._outcome(exchange, entry, run)
        return None

    async def on_request_body(self, exchange: Exchange) -> Verdict | None:
        """Check the body (content type, parsing, schema); add the body's typed locations."""
        entry = self._entries.get(exchange.route.key)
        if entry is None:
            return None
        state = exchange.state.setdefault("validation", {"typed": set()})
        typed: set[str] = state["typed"]
        run = Run(self.config.max_violations)
        entry.op.check_body(exchange, run, typed)
        if run.violations:
            return self._outcome(exchange, entry, run)
        return None

    def _outcome(self, exchange: Exchange, entry: _Entry, run: Run) -> Verdict | None:
        violations = run.violations
        exchange.findings.extend(violations)
        record = exchange.audit.setdefault("validation", {"violations": 0})
        record["violations"] += len(violations) + (1 if run.truncated else 0)
        record["mode"] = entry.mode
        if entry.mode == "detect":
            record["would_block"] = run.status
            return None
        extensions: dict[str, Any] = {"violations": [v.to_dict() for v in violations]}
        if run.truncated:
            extensions["truncated"] = True
        detail = "; ".join(f"{v.location}: {v.message}" for v in violations)
        if run.status == 415:
            return Verdict(
                415, "the request's Content-Type is not accepted by this operation", self.name,
                rule_id="unsupported-media-type", detail=detail, title="Unsupported Media Type",
                extensions=extensions,
            )
        count = f"{len(violations)}{'+' if run.truncated else ''}"
        return Verdict(
            400, f"the request does not match the API's schema ({count} violation{'s' if count != '1' else ''})",
            self.name, rule_id="request-validation", detail=detail, title="Request Validation Failed",
            extensions=extensions,
        )


def _route_settings(route_key: str, merged: Mapping[str, Any]) -> RouteValidationSettings:
    section = merged.get("validation", {})
    if not isinstance(section, dict):
        raise ConfigError(f'routes."{route_key}".validation: must be a mapping (e.g. {{strict: false}})')
    try:
        return RouteValidationSettings.model_validate(section)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f'routes."{route_key}".validation.{where}: {error["msg"]}') from None
