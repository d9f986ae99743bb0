"""One JSON audit event per request, blocked or not, with secrets redacted.

An event (``build_event``)::

    {"time": "2026-11-26T01:02:03.456Z", "request_id": "…", "client": "127.0.0.1",
     "method": "GET", "path": "/api/v1/articles/7", "route": "/api/v1/articles/{articleId}",
     "operation_id": "getArticle", "identity": {"key_id": "…"}, "verdict": "allow",
     "status": 200, "protection": null, "rule_ids": [], "upstream_ms": 1.2, "total_ms": 2.0}

Header values listed in ``observability.redact_headers`` and values of fields listed in
``observability.redact_fields`` never appear; neither does the query string (only parameter
names), nor any body. Findings carry a short excerpt, masked when their location is a secret.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import unquote_plus

from sealgate.observability.settings import ObservabilityConfig
from sealgate.pipeline.exchange import Exchange
from sealgate.storage.base import AuditSink

__all__ = ["REDACTED", "AuditObserver", "build_event", "is_secret_location"]

REDACTED = "[redacted]"
log = logging.getLogger("sealgate.audit")


def is_secret_location(location: str, settings: ObservabilityConfig) -> bool:
    """True when a finding location (``header.authorization``, ``body.$.password``) names a secret."""
    lowered = location.lower()
    if lowered.startswith("header."):
        return lowered[7:] in settings.redact_headers
    if lowered.startswith("cookie."):
        return True
    last = lowered.replace("]", "").replace("[", ".").rsplit(".", 1)[-1]
    return last in settings.redact_fields


def build_event(exchange: Exchange, settings: ObservabilityConfig) -> dict[str, Any]:
    """The audit event for a finished exchange (see the module docstring)."""
    verdict = exchange.verdict
    response = exchange.response
    status = verdict.status if verdict is not None else (response.status if response else 0)
    if verdict is None:
        outcome = "allow"
    elif verdict.protection == "gateway":
        outcome = "error"
    else:
        outcome = "block"
    event: dict[str, Any] = {
        "time": dt.datetime.fromtimestamp(exchange.received_at, dt.UTC).isoformat(timespec="milliseconds"),
        "request_id": exchange.request_id,
        "client": exchange.client_ip,
        "method": exchange.method,
        "path": exchange.path,
        "route": exchange.route.path_template,
        "operation_id": exchange.route.operation_id or None,
        "query_params": _query_names(exchange.query_string) if exchange.query_string else [],
        "identity": _identity(exchange),
        "verdict": outcome,
        "status": status,
        "protection": verdict.protection if verdict else None,
        "rule_ids": _rule_ids(exchange),
        "reason": verdict.detail or verdict.reason if verdict else None,
        "upstream_ms": round(exchange.upstream_ms, 3) if exchange.upstream_ms is not None else None,
        "total_ms": round(exchange.elapsed_ms, 3),
        "tunneled": exchange.tunneled,
    }
    if exchange.findings:
        event["findings"] = [_redact_finding(f, settings) for f in exchange.findings]
    if settings.log_headers:
        event["headers"] = {
            name: REDACTED if name in settings.redact_headers else value for name, value in exchange.headers
        }
    for key, value in exchange.audit.items():
        event.setdefault(key, value)
    return event


def _query_names(query_string: bytes) -> list[str]:
    """Parameter names only (values may be secrets), without decoding values we never log."""
    names: set[str] = set()
    for item in query_string.decode("latin-1").split("&"):
        name = item.split("=", 1)[0]
        if not name:
            continue
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        names.add(name)
    return sorted(names)


def _identity(exchange: Exchange) -> dict[str, Any] | None:
    ident = exchange.identity
    if ident is None:
        return None
    return {
        "key_id": ident.key_id or None,
        "subject": ident.subject or None,
        "scopes": sorted(ident.scopes),
        "roles": sorted(ident.roles),
    }


def _rule_ids(exchange: Exchange) -> list[str]:
    ids: list[str] = []
    for finding in exchange.findings:
        rule = getattr(finding, "rule_id", "")
        if rule and rule not in ids:
            ids.append(rule)
    verdict = exchange.verdict
    if verdict is not None and verdict.rule_id and verdict.rule_id not in ids:
        ids.append(verdict.rule_id)
    return ids


def _redact_finding(finding: Any, settings: ObservabilityConfig) -> dict[str, Any]:
    data: dict[str, Any] = finding.to_log() if hasattr(finding, "to_log") else {"finding": str(finding)}
    location = str(data.get("location", ""))
    if is_secret_location(location, settings) and "excerpt" in data:
        data["excerpt"] = REDACTED
    return data


class AuditObserver:
    """The LOG-phase observer that writes each exchange's event to the audit sink."""

    def __init__(self, sink: AuditSink, settings: ObservabilityConfig) -> None:
        self.sink = sink
        self.settings = settings

    async def __call__(self, exchange: Exchange) -> None:
        await self.sink.write(build_event(exchange, self.settings))
