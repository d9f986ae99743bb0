"""The positive model's machinery: OpenAPI schemas compiled into fast request validators.

:mod:`sealgate.protections.request_validation` is the protection; this package holds its parts:

- :mod:`~sealgate.validation.schema`: OpenAPI 3.0/3.1 schema → JSON Schema 2020-12 translation
  (``nullable``, boolean ``exclusiveMinimum``, ``int32``/``int64`` ranges, ``readOnly``, strict
  ``additionalProperties``), recursive ``$ref`` resolution and compilation with jsonschema-rs.
- :mod:`~sealgate.validation.typed`: which values a schema proves safe by type (the hand-off to
  the injection detectors), including a conservative analysis of ``pattern``.
- :mod:`~sealgate.validation.params`: OpenAPI parameter styles (form, spaceDelimited,
  pipeDelimited, deepObject, simple, label, matrix) and string → declared type coercion.
- :mod:`~sealgate.validation.bodies`: form, multipart and XML bodies turned into instances.
- :mod:`~sealgate.validation.violations`: violations, their locations and escaped excerpts.
- :mod:`~sealgate.validation.operation`: everything compiled for one operation, and the checks.

Example::

    from sealgate.openapi.document import load_document
    from sealgate.validation import Options, compile_operation
    from sealgate.validation.schema import SchemaCompiler

    document = load_document("openapi.yaml")
    compiler = SchemaCompiler(document.raw, document.version, strict=True, formats=True)
    op = compile_operation(document.routes[0], compiler, Options(), document.raw)
"""

from sealgate.validation.operation import CompiledOperation, Options, compile_operation
from sealgate.validation.violations import Violation

__all__ = ["CompiledOperation", "Options", "Violation", "compile_operation"]
