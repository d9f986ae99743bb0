"""One operation compiled for validation, and the checks run on each request.

:func:`compile_operation` turns a :class:`~sealgate.pipeline.route.Route` into a
:class:`CompiledOperation` once, at startup: every parameter's parser and coercer, one
jsonschema-rs validator for all parameters, one per request-body media type, the typed-value
plans and depth bounds. Per request, :meth:`CompiledOperation.check_params` (headers phase) and
:meth:`CompiledOperation.check_body` (body phase) only parse, coerce and call ``is_valid``; the
slower ``iter_errors`` runs only for a request that is invalid, to explain why.

Example::

    compiler = SchemaCompiler(document.raw, document.version, strict=True, formats=True)
    op = compile_operation(route, compiler, Options(), document.raw)
    run = Run(limit=20)
    typed: set[str] = set()
    op.check_params(exchange, run, typed)
    if not run.violations:
        op.check_body(exchange, run, typed)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import jsonschema_rs

from sealgate.errors import BodyParseError, SpecError
from sealgate.pipeline.exchange import Exchange, is_json_type, is_xml_type
from sealgate.pipeline.route import Route
from sealgate.validation.bodies import local_name, xml_depth_exceeds, xml_to_instance
from sealgate.validation.params import (
    ParamSpec,
    build_param_spec,
    collect_pairs,
    cookie_value,
    header_value,
    keep_value,
    param_kind,
    path_value,
)
from sealgate.validation.schema import SchemaCompiler, depth_bound, exceeds_depth, lookup, schema_types
from sealgate.validation.typed import Walker, build_walker
from sealgate.validation.violations import Run, Violation, excerpt, json_path_location

__all__ = ["BodySpec", "CompiledOperation", "Options", "ParamSpec", "Run", "compile_operation"]

_IGNORED_HEADERS: Final = frozenset({"accept", "content-type", "authorization"})
"""OpenAPI: header parameters with these names are ignored (the protocol defines them)."""
_DEFAULT_STYLE: Final = {"query": "form", "cookie": "form", "path": "simple", "header": "simple", "body": "form"}


@dataclass(frozen=True, slots=True)
class Options:
    """Compile-time choices for one operation (global config merged with the route's settings)."""

    strict: bool = True
    reject_unknown_query: bool = True
    formats: bool = True
    max_depth: int = 32


@dataclass(slots=True, eq=False)
class BodySpec:
    """One declared media type of the request body, compiled."""

    media: str
    schema: Any = None
    raw_schema: Any = None
    validator: jsonschema_rs.Validator | None = None
    multipart_validator: jsonschema_rs.Validator | None = None
    walker: Walker | None = None
    walk_depth: bool = True
    fields: dict[str, ParamSpec] = field(default_factory=dict)
    file_fields: frozenset[str] = frozenset()


@dataclass(slots=True, eq=False)
class CompiledOperation:
    """The validators of one operation; see the module docstring."""

    key: str
    options: Options
    query: tuple[ParamSpec, ...] = ()
    path: tuple[ParamSpec, ...] = ()
    headers: tuple[ParamSpec, ...] = ()
    cookies: tuple[ParamSpec, ...] = ()
    by_key: dict[tuple[str, str], ParamSpec] = field(default_factory=dict)
    params_validator: jsonschema_rs.Validator | None = None
    body_declared: bool = False
    body_required: bool = False
    media: dict[str, BodySpec] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    # Inputs whose text the spec itself fixes: literal path segments and declared query names.
    literal: frozenset[str] = frozenset()
    literal_path: frozenset[str] = frozenset()  # the same and "path"

    # -- parameters ----------------------------------------------------------------------------
    def check_params(self, exchange: Exchange, run: Run, typed: set[str]) -> frozenset[str]:
        """Check path, query, header and cookie parameters; add typed locations of valid ones.

        Returns the input locations whose text the spec fixes (see :func:`_literal_locations`),
        with the whole path when its parameters are all typed and valid.
        """
        instance: dict[str, dict[str, Any]] = {}
        present: list[tuple[ParamSpec, Any]] = []
        pairs = exchange.query
        if self.query or (pairs and self.options.reject_unknown_query):
            multi: dict[str, list[str]] = {}
            for name, value in pairs:
                found = multi.get(name)
                if found is None:
                    multi[name] = [value]
                else:
                    found.append(value)
            consumed: set[str] = set()
            values = collect_pairs(self.query, multi, run, consumed, present)
            if values:
                instance["query"] = values
            if self.options.reject_unknown_query and len(consumed) < len(multi):
                for name, seen in multi.items():
                    if name not in consumed:
                        location = f"query.{name}"
                        run.failed.add(location)
                        run.add(Violation(location, "is not a declared query parameter", "unknown", excerpt(seen[0])))
        if self.path:
            values = {}
            for spec in self.path:
                value = path_value(spec, exchange.path_params.get(spec.name), run)
                keep_value(spec, value, values, present, run)
            if values:
                instance["path"] = values
        if self.headers:
            values = {}
            for spec in self.headers:
                value = header_value(spec, exchange.header(spec.name), run)
                keep_value(spec, value, values, present, run)
            if values:
                instance["header"] = values
        if self.cookies:
            cookies = exchange.cookies
            repeated = _repeated_cookies(exchange, self.by_key) if cookies else set()
            values = {}
            for spec in self.cookies:
                if spec.name in repeated:
                    # The jar keeps the last one; the upstream may read the first: check neither, pass neither.
                    run.failed.add(spec.location)
                    run.add(Violation(spec.location, "must appear once", "repeated"))
                    continue
                value = cookie_value(spec, cookies.get(spec.name), run)
                keep_value(spec, value, values, present, run)
            if values:
                instance["cookie"] = values
        validator = self.params_validator
        if instance and validator is not None and not validator.is_valid(instance):
            by_key = self.by_key

            def locate(path: list[Any]) -> str:
                spec = by_key[(str(path[0]), str(path[1]))]
                run.failed.add(spec.location)
                return spec.locate(path[2:])

            run.from_errors(validator.iter_errors(instance), locate)
        failed = run.failed
        for spec, value in present:
            if spec.location in failed:
                continue
            if spec.typed:
                typed.add(spec.location)
                typed.update(spec.aliases)
            elif spec.typed_props and isinstance(value, dict):
                for prop in value:
                    if prop in spec.typed_props:
                        typed.add(spec.prop_location(prop))
        if self.path and all(spec.typed and spec.location not in failed for spec in self.path):
            return self.literal_path  # every segment is a literal or a valid typed parameter
        return self.literal

    # -- body ----------------------------------------------------------------------------------
    def media_for(self, media: str) -> BodySpec | None:
        """The body spec declared for a request media type (exact, then ``type/*``, then ``*/*``)."""
        found = self.media.get(media)
        if found is None:
            if media:
                found = self.media.get(media.split("/", 1)[0] + "/*")
            found = found or self.media.get("*/*")
        return found

    def check_body(self, exchange: Exchange, run: Run, typed: set[str]) -> None:
        """Check the body against the declared media types and schemas; 415 for an undeclared type."""
        body = exchange.body
        if not body:
            if self.body_required:
                run.add(Violation("body", "a request body is required", "required"))
            return
        media = exchange.content_type
        spec = self.media_for(media)
        if spec is None:
            if not self.body_declared and not self.options.strict:
                return
            run.status = 415
            if not self.body_declared:
                message = "this operation takes no request body"
            elif not media:
                message = "the request has a body but no Content-Type"
            else:
                message = "is not a declared media type; expected " + ", ".join(sorted(self.media))
            run.add(Violation("header.content-type", message, "content-type", excerpt(media) if media else None))
            return
        try:
            parsed = exchange.parsed_body()
        except BodyParseError as exc:
            run.add(Violation("body", exc.detail, "syntax"))
            return
        if is_json_type(media):
            self._check_json(spec, parsed, run, typed)
        elif media == "application/x-www-form-urlencoded":
            self._check_form(spec, parsed, run, typed)
        elif media == "multipart/form-data":
            self._check_multipart(spec, parsed, run, typed)
        elif is_xml_type(media):
            self._check_xml(spec, parsed, run)
        elif media.startswith("text/") and "string" in schema_types(spec.schema) and spec.validator is not None:
            self._check_text(spec, body, run)

    def _depth_violation(self, run: Run) -> None:
        run.add(Violation("body", f"nests deeper than {self.options.max_depth} levels", "maxDepth"))

    def _check_json(self, spec: BodySpec, value: Any, run: Run, typed: set[str]) -> None:
        limit = self.options.max_depth
        if spec.walk_depth and exceeds_depth(value, limit):
            self._depth_violation(run)
            return
        validator = spec.validator
        if validator is None:
            return
        if validator.is_valid(value):
            if spec.walker is not None:
                spec.walker(value, "body.$", typed)
            return
        if not spec.walk_depth and exceeds_depth(value, limit):
            self._depth_violation(run)
            return
        run.from_errors(validator.iter_errors(value), _body_json_locate)

    def _check_form(self, spec: BodySpec, pairs: Any, run: Run, typed: set[str]) -> None:
        multi: dict[str, list[str]] = {}
        for name, value in pairs or ():
            multi.setdefault(name, []).append(value)
        self._check_fields(spec, multi, {}, run, typed, spec.validator)

    def _check_multipart(self, spec: BodySpec, parts: Any, run: Run, typed: set[str]) -> None:
        multi: dict[str, list[str]] = {}
        files: dict[str, Any] = {}
        for part in parts or ():
            name = part.name
            field_spec = spec.fields.get(name)
            if part.filename is not None or name in spec.file_fields:
                # File content is not schema-validated (only its presence); size is limits' job.
                if field_spec is not None and field_spec.kind == "array":
                    files.setdefault(name, []).append("")
                else:
                    files[name] = ""
                continue
            try:
                text = part.data.decode("utf-8")
            except UnicodeDecodeError:
                location = f"body.{name}"
                run.failed.add(location)
                run.add(Violation(location, "is not valid UTF-8 text", "encoding"))
                continue
            multi.setdefault(name, []).append(text)
        self._check_fields(spec, multi, files, run, typed, spec.multipart_validator)

    def _check_fields(
        self,
        spec: BodySpec,
        multi: dict[str, list[str]],
        instance: dict[str, Any],
        run: Run,
        typed: set[str],
        validator: jsonschema_rs.Validator | None,
    ) -> None:
        present: list[tuple[ParamSpec, Any]] = []
        consumed: set[str] = set(instance)
        fields = tuple(s for s in spec.fields.values() if s.name not in instance)
        instance.update(collect_pairs(fields, multi, run, consumed, present, check_required=False))
        for name, values in multi.items():
            if name not in consumed:  # undeclared: strict mode's additionalProperties rejects it
                instance[name] = values[0] if len(values) == 1 else values
        if validator is None:
            return
        if not validator.is_valid(instance):

            def locate(path: list[Any]) -> str:
                if not path:
                    return "body"
                field_spec = spec.fields.get(str(path[0]))
                location = field_spec.locate(path[1:]) if field_spec is not None else f"body.{path[0]}"
                run.failed.add(field_spec.location if field_spec is not None else location)
                return location

            run.from_errors(validator.iter_errors(instance), locate)
        for field_spec, _ in present:
            if field_spec.typed and field_spec.location not in run.failed:
                typed.add(field_spec.location)
                typed.update(field_spec.aliases)

    def _check_xml(self, spec: BodySpec, element: Any, run: Run) -> None:
        if element is None or spec.validator is None:
            return
        if xml_depth_exceeds(element, self.options.max_depth):
            self._depth_violation(run)
            return
        raw = self._resolve(spec.raw_schema)
        hints = raw.get("xml") if isinstance(raw, dict) else None
        root_name = hints.get("name") if isinstance(hints, dict) else None
        if isinstance(root_name, str) and local_name(element.tag) != root_name:
            found = excerpt(local_name(element.tag))
            run.add(Violation("body", f"the root element must be <{root_name}>", "xml", found))
            return
        instance = xml_to_instance(element, raw, self._resolve)
        if not spec.validator.is_valid(instance):
            run.from_errors(spec.validator.iter_errors(instance), _body_json_locate)

    def _check_text(self, spec: BodySpec, body: bytes, run: Run) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            run.add(Violation("body", "is not valid UTF-8 text", "encoding"))
            return
        assert spec.validator is not None
        if not spec.validator.is_valid(text):
            run.from_errors(spec.validator.iter_errors(text), lambda path: "body")

    def _resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
            schema = lookup(self.raw, schema["$ref"], self.key)
            seen += 1
        return schema


def _repeated_cookies(exchange: Exchange, declared: dict[tuple[str, str], ParamSpec]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for key, value in exchange.headers:
        if key != "cookie":
            continue
        for item in value.split(";"):
            name = item.strip().partition("=")[0]
            if ("cookie", name) in declared:
                if name in seen:
                    repeated.add(name)
                seen.add(name)
    return repeated


def _body_json_locate(path: list[Any]) -> str:
    return json_path_location("body.$", path)


def _literal_locations(template: str, query: tuple[ParamSpec, ...]) -> frozenset[str]:
    """Input locations (see :mod:`sealgate.detectors.inputs`) whose text the spec fixes.

    A request routed to ``template`` has the template's literal segments as its path segments
    (decoded), and a query parameter found under a declared name has that name: the spec's
    text, not the client's, so detectors need not read it. A template without parameters fixes
    the whole path too.
    """
    segments = [s for s in template.split("/") if s]
    found = {f"path[{i}]" for i, segment in enumerate(segments) if "{" not in segment}
    if len(found) == len(segments):
        found.add("path")
    found.update(f"query.{spec.name}:name" for spec in query if spec.kind != "object")
    return frozenset(found)


def _path_index(template: str, name: str) -> int | None:
    segments = [s for s in template.split("/") if s]
    marker = "{" + name + "}"
    return segments.index(marker) if marker in segments else None


def compile_operation(
    route: Route, compiler: SchemaCompiler, options: Options, raw: dict[str, Any]
) -> CompiledOperation:
    """Compile every validator of ``route`` (see the module docstring); raises SpecError if a schema is broken."""
    op = CompiledOperation(route.key, options, raw=raw)
    specs: dict[str, list[ParamSpec]] = {"query": [], "path": [], "header": [], "cookie": []}
    schemas: dict[str, dict[str, Any]] = {}
    for param in route.parameters:
        where = param.get("in")
        name = param.get("name")
        if where not in specs or not isinstance(name, str):
            continue
        if where == "header" and name.lower() in _IGNORED_HEADERS:
            continue
        schema = param.get("schema")
        json_content = False
        content = param.get("content")
        if schema is None and isinstance(content, dict) and content:
            media, entry = next(iter(content.items()))
            schema = entry.get("schema", {}) if isinstance(entry, dict) else {}
            json_content = is_json_type(str(media).split(";", 1)[0].strip().lower())
        translated = compiler.translate(schema if schema is not None else {})
        style = str(param.get("style", _DEFAULT_STYLE[where]))
        explode = bool(param.get("explode", style == "form"))
        location = f"{where}.{name.lower() if where == 'header' else name}"
        aliases: tuple[str, ...] = ()
        if where == "path":
            index = _path_index(route.path_template, name)
            aliases = (f"path[{index}]",) if index is not None else ()
        spec = build_param_spec(
            name, where, location, translated,
            required=bool(param.get("required", where == "path")), style=style, explode=explode,
            json_content=json_content, formats=compiler.formats, aliases=aliases,
        )
        specs[where].append(spec)
        op.by_key[(where, name)] = spec
        schemas.setdefault(where, {})[name] = translated
    # Exploded form objects that take any name go last: every named parameter claims its own first.
    op.query = tuple(sorted(specs["query"], key=lambda s: s.claims_all and s.kind == "object"))
    op.path, op.headers, op.cookies = tuple(specs["path"]), tuple(specs["header"]), tuple(specs["cookie"])
    op.literal = _literal_locations(route.path_template, op.query)
    op.literal_path = op.literal | {"path"}
    if schemas:
        wrapper = {"type": "object", "properties": {
            where: {"type": "object", "properties": props} for where, props in schemas.items()
        }}
        op.params_validator = _compile(compiler, wrapper, route)
    _compile_body(op, route, compiler, options)
    return op


def _compile(compiler: SchemaCompiler, schema: Any, route: Route) -> jsonschema_rs.Validator:
    try:
        return compiler.compile(schema)
    except SpecError as exc:
        raise SpecError(f"{route.key}: {exc}") from None


def _compile_body(op: CompiledOperation, route: Route, compiler: SchemaCompiler, options: Options) -> None:
    body = route.operation.get("requestBody")
    if not isinstance(body, dict):
        return
    op.body_declared = True
    op.body_required = body.get("required") is True
    for media_key, entry in (body.get("content") or {}).items():
        media = str(media_key).split(";", 1)[0].strip().lower()
        entry = entry if isinstance(entry, dict) else {}
        raw_schema = entry.get("schema")
        spec = BodySpec(media, raw_schema=raw_schema)
        op.media[media] = spec
        if raw_schema is None:
            continue
        schema = compiler.translate(raw_schema)
        spec.schema = schema
        spec.validator = _compile(compiler, schema, route)
        spec.walker = build_walker(schema, compiler.formats)
        bound = depth_bound(schema)
        spec.walk_depth = bound is None or bound > options.max_depth
        if media in ("application/x-www-form-urlencoded", "multipart/form-data", "*/*", "multipart/*",
                     "application/*") and isinstance(schema, dict):
            _compile_fields(spec, schema, entry.get("encoding") or {}, compiler, route)


def _compile_fields(
    spec: BodySpec, schema: dict[str, Any], encoding: dict[str, Any], compiler: SchemaCompiler, route: Route
) -> None:
    files: set[str] = set()
    multipart_props: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        found = encoding.get(name)
        enc: dict[str, Any] = found if isinstance(found, dict) else {}
        style = str(enc.get("style", "form"))
        kind = param_kind(sub)
        items = sub.get("items", {}) if isinstance(sub, dict) and kind == "array" else sub
        if isinstance(items, dict) and (
            items.get("format") in ("binary", "byte") or "contentMediaType" in items or "contentEncoding" in items
        ):
            files.add(name)
            multipart_props[name] = True  # file content: presence only
            continue
        multipart_props[name] = sub
        spec.fields[name] = build_param_spec(
            name, "body", f"body.{name}", sub,
            required=False, style=style, explode=bool(enc.get("explode", style == "form")),
            json_content=kind == "object" and style != "deepObject", formats=compiler.formats,
            aliases=(f"form.{name}", f"multipart.{name}"),
        )
    spec.file_fields = frozenset(files)
    if files:
        spec.multipart_validator = _compile(compiler, {**schema, "properties": multipart_props}, route)
    else:
        spec.multipart_validator = spec.validator
