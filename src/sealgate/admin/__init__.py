"""The admin port: health, readiness and Prometheus metrics (a dashboard comes later)."""
