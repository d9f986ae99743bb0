"""RFC 9457 problem responses: the only shape of error sealgate itself produces."""

from __future__ import annotations

from typing import Any

import orjson

from sealgate.pipeline.exchange import Response
from sealgate.pipeline.verdict import Verdict

__all__ = ["PROBLEM_TYPE_BASE", "problem_response", "verdict_response"]

PROBLEM_TYPE_BASE = "https://sealgate.dev/problems/"
"""Problem ``type`` URIs are this base plus a slug; docs/problems.md describes each."""

_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def problem_response(
    status: int,
    detail: str,
    request_id: str,
    *,
    title: str = "",
    slug: str = "",
    extensions: dict[str, Any] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    type_uri: str = "",
) -> Response:
    """Build an ``application/problem+json`` response carrying the request id.

    The problem ``type`` is ``type_uri`` when given (e.g. an IANA-registered type), else
    :data:`PROBLEM_TYPE_BASE` plus ``slug``.
    """
    body: dict[str, Any] = {
        "type": type_uri or PROBLEM_TYPE_BASE + (slug or str(status)),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    if extensions:
        for key, value in extensions.items():
            body.setdefault(key, value)
    payload = orjson.dumps(body)
    response_headers = [
        ("content-type", "application/problem+json"),
        ("content-length", str(len(payload))),
        ("cache-control", "no-store"),
        *headers,
    ]
    return Response(status=status, headers=response_headers, body=payload)


def verdict_response(verdict: Verdict, request_id: str) -> Response:
    """The problem response a client gets for a verdict (public reason only, never the detail)."""
    slug = verdict.rule_id or verdict.protection
    return problem_response(
        verdict.status,
        verdict.reason,
        request_id,
        title=verdict.title,
        slug=slug,
        extensions=verdict.extensions,
        headers=verdict.headers,
    )
