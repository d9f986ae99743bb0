"""Injection defense (the negative model): detectors over every attacker-controlled value.

Blocks SQL injection, XSS, OS command injection, path traversal, SSRF/RFI, XXE, NoSQL, template,
LDAP, CRLF/header and JNDI injection, prototype pollution and Java/PHP/Node code injection
(``sealgate.detectors``). Each finding has a severity; the request is blocked with a 403 problem
when the anomaly score reaches ``threshold``. Values the request validator proved safe by type
(integers, enums, UUIDs, dates) are skipped. Every decision is explained in the audit event:
detector, rule id, location and a decoded excerpt of each finding, and the anomaly score.

Config::

    injection:
      mode: block            # or detect: log findings, forward anyway
      paranoia: 1            # 1-3: higher catches more, at more false positives
      threshold: 5           # anomaly points that block (one critical finding = 5)
      exclusions:
        - route: "POST /api/v1/articles"   # or "*" for every route
          locations: ["body.$.body"]        # exact, or a prefix ending in "*"
          rules: ["sqli"]                   # detectors or "detector:rule-id"; empty = all

Per route (``routes:`` in sealgate.yaml or ``x-sealgate`` on the operation)::

    routes:
      "POST /api/v1/articles": {injection: {mode: detect, paranoia: 2}}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sealgate.detectors.base import Finding
from sealgate.detectors.engine import DEFAULT_PARANOIA, DEFAULT_THRESHOLD, DetectionEngine
from sealgate.errors import ConfigError
from sealgate.pipeline.exchange import Exchange
from sealgate.pipeline.verdict import Verdict

__all__ = ["Exclusion", "InjectionConfig", "InjectionProtection", "RouteInjectionSettings"]


class Exclusion(BaseModel):
    """Findings to ignore: by route, by location and by detector or rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    route: str = Field("*", description='Route key ("METHOD /path/template") or "*" for all routes.')
    locations: tuple[str, ...] = Field(
        (), description='Input locations (e.g. "body.$.comment", "header.referer"); a trailing "*" '
        "matches a prefix; empty means every location."
    )
    rules: tuple[str, ...] = Field(
        (), description='Detectors ("sqli") or rules ("sqli:sqli-tautology") to ignore; empty means all.'
    )

    def matches(self, route_key: str, finding: Finding) -> bool:
        """True when this exclusion silences ``finding`` on ``route_key``."""
        if self.route not in ("*", route_key):
            return False
        if self.locations and not any(_location_matches(p, finding.location) for p in self.locations):
            return False
        if not self.rules:
            return True
        return finding.detector in self.rules or f"{finding.detector}:{finding.rule_id}" in self.rules


class RouteInjectionSettings(BaseModel):
    """The ``injection`` part of a route's settings; unset fields take the global value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = Field(None, description="Switch detection off or on for this route.")
    mode: Literal["block", "detect"] | None = Field(None, description="block or detect on this route.")
    paranoia: int | None = Field(None, ge=1, le=3, description="Paranoia level on this route.")
    threshold: int | None = Field(None, ge=1, description="Blocking threshold on this route.")


class InjectionConfig(BaseModel):
    """``injection:`` in sealgate.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Run the detection engine on every request.")
    mode: Literal["block", "detect"] = Field(
        "block", description="block: answer 403 when the score reaches the threshold; detect: only log."
    )
    paranoia: int = Field(
        DEFAULT_PARANOIA, ge=1, le=3,
        description="1: precise structural evidence only; 2: also weaker shapes; 3: keyword-level hints.",
    )
    threshold: int = Field(
        DEFAULT_THRESHOLD, ge=1, description="Anomaly points that block (critical 5, error 4, warning 3, notice 2)."
    )
    exclusions: tuple[Exclusion, ...] = Field((), description="Findings to ignore (false-positive tuning).")


class InjectionProtection:
    """Runs the detection engine on the request's inputs; see the module docstring."""

    name = "injection"

    def __init__(self, config: InjectionConfig) -> None:
        self.config = config
        self._engines: dict[tuple[int, int], DetectionEngine] = {}
        self._route_settings: dict[str, RouteInjectionSettings] = {}
        self._engine(config.paranoia, config.threshold)  # build the default one (and its prefilter) now

    def _engine(self, paranoia: int, threshold: int) -> DetectionEngine:
        key = (paranoia, threshold)
        engine = self._engines.get(key)
        if engine is None:
            engine = DetectionEngine(paranoia=paranoia, threshold=threshold)
            self._engines[key] = engine
        return engine

    def _settings_for(self, route_key: str, raw: Mapping[str, Any]) -> RouteInjectionSettings:
        found = self._route_settings.get(route_key)
        if found is None:
            section = raw.get("injection", {})
            try:
                found = RouteInjectionSettings.model_validate(section if isinstance(section, dict) else {})
            except ValidationError as exc:
                raise ConfigError(f'routes."{route_key}".injection: {exc.errors()[0]["msg"]}') from None
            self._route_settings[route_key] = found
        return found

    def check_routes(self, routes: Mapping[str, Mapping[str, Any]]) -> None:
        """Validate every route's ``injection`` settings at startup (errors name the route)."""
        for key, settings in routes.items():
            self._settings_for(key, settings)

    async def on_request_body(self, exchange: Exchange) -> Verdict | None:
        """Score the request; block (or only record, in detect mode) when it reaches the threshold."""
        route = exchange.route
        settings = self._settings_for(route.key, route.settings)
        if not (settings.enabled if settings.enabled is not None else self.config.enabled):
            return None
        engine = self._engine(settings.paranoia or self.config.paranoia, settings.threshold or self.config.threshold)
        # Validation's typed values and the text the spec fixes (literal path segments, declared
        # query names) need no detector.
        validation: dict[str, Any] = exchange.state.get("validation", {})
        typed: Collection[str] = validation.get("typed", ())
        literal: frozenset[str] = validation.get("literal", frozenset())
        assessment = engine.assess(exchange, skip=literal.union(typed) if literal else typed)
        findings = [f for f in assessment.findings if not self._excluded(route.key, f)]
        if not findings:
            return None
        exchange.findings.extend(findings)
        score = sum(f.score for f in {(f.detector, f.rule_id): f for f in findings}.values())
        exchange.audit["anomaly_score"] = score
        if score < engine.threshold:
            return None
        mode = settings.mode or self.config.mode
        if mode == "detect":
            exchange.audit["would_block"] = True
            return None
        top = max(findings, key=lambda f: f.score)
        return Verdict(
            403,
            "the request was refused because it looks like an injection attack; "
            "quote the request id to the API's operators if this is a mistake",
            self.name,
            rule_id=top.rule_id,
            detail=f"anomaly score {score} >= {engine.threshold}: "
            + "; ".join(f"{f.rule_id} at {f.location}" for f in findings[:5]),
            title="Request Blocked",
        )

    def _excluded(self, route_key: str, finding: Finding) -> bool:
        return any(ex.matches(route_key, finding) for ex in self.config.exclusions)


def _location_matches(pattern: str, location: str) -> bool:
    if pattern.endswith("*"):
        return location.startswith(pattern[:-1])
    return location == pattern
