"""Audit events (JSON, redacted), Prometheus metrics and the admin endpoints."""
