"""Loading OpenAPI 3.0/3.1 documents: parse, resolve local ``$ref``s, list operations."""

from sealgate.openapi.document import OpenAPIDocument, load_document

__all__ = ["OpenAPIDocument", "load_document"]
