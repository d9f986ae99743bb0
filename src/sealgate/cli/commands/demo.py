"""``sealgate demo``: the bundled sample AI API on loopback with sealgate in front of it.

Embedded defaults only (SQLite for the sample API, a JSON-lines audit log and the secret store in
``.sealgate-demo/``). The encrypted tunnel and the signed-code bootloader are on: the web app at
``http://127.0.0.1:8080/`` runs only scripts whose SHA-384 the gateway pinned at startup, and its API
calls travel end-to-end encrypted (Oblivious HTTP) through the gateway. Browsers must use the tunnel
for ``/api/`` (``require_for_browsers``); curl and other non-browser clients keep calling in plaintext.
Prints what to open and curl, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sealgate.config.load import parse_config_text
from sealgate.config.model import SealgateConfig
from sealgate.errors import ConfigError

__all__ = ["demo_config", "instructions", "register", "run"]

SPEC = Path(__file__).resolve().parents[2] / "demo" / "openapi.yaml"


def register(sub: Any) -> None:
    """Add the ``demo`` verb."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo", help="run the sample AI API with sealgate in front of it",
        description="Start the bundled sample AI API on 127.0.0.1 and sealgate in front of it, "
        "then print what to open or curl.",
    )
    parser.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    parser.add_argument("--api-port", type=int, default=9001, help="sample API port (default 9001)")
    parser.add_argument("--admin-port", type=int, default=9090, help="admin port (default 9090)")
    parser.add_argument("--dir", default=".sealgate-demo", help="where the demo keeps its files")
    parser.set_defaults(run=run)


def demo_config(port: int, api_port: int, admin_port: int, workdir: Path) -> SealgateConfig:
    """The config the demo runs: the sample API's spec, blocking unknown routes, audit to a file, and the
    tunnel with the bootloader protecting the web app at ``/`` (its health check is tunneled too)."""
    text = f"""
server: {{host: 127.0.0.1, port: {port}}}
admin: {{host: 127.0.0.1, port: {admin_port}}}
upstream: {{urls: ["http://127.0.0.1:{api_port}"]}}
routing: {{spec: "{SPEC}", unknown_routes: block}}
audit: {{backend: jsonl, path: "{(workdir / 'audit.jsonl').resolve()}"}}
secrets: {{store_path: "{(workdir / 'secrets.json').resolve()}"}}
tunnel:
  enabled: true
  require_for_browsers: true
  api_prefixes: ["/api/", "/healthz"]
  replay: {{backend: memory}}
  bootloader: {{enabled: true, html_paths: ["/"]}}
"""
    return parse_config_text(text, "demo config", env={})


def instructions(port: int, api_port: int, admin_port: int, workdir: Path) -> str:
    """The text the demo prints: what to curl and what each call shows."""
    gw = f"http://127.0.0.1:{port}"
    api = f"http://127.0.0.1:{api_port}"
    inject = "articleId=1;%20DROP%20TABLE%20articles;%20--"
    return f"""
sealgate demo is running.

  >>> open {gw}/ — the web app, its scripts verified and its API calls encrypted <<<

  sample AI API (direct, unprotected): {api}
  sealgate in front of it:             {gw}
  admin (health, metrics):             http://127.0.0.1:{admin_port}/metrics

In the browser's developer tools (Network tab) the app's API calls show up only as POSTs of
message/ohttp-req to {gw}/.sealgate/tunnel: path, query and payload are encrypted. The app's
scripts were pinned (SHA-384) when the demo started: if one changes on the sample API, the page
refuses to run it and the report lands in the audit log. Restart the demo to pin a new version.

Try it (another terminal):

  # proxied calls to the three parts of the sample API
  curl -s '{gw}/api/v1/recommendations?userId=1&limit=3'
  curl -s -X POST {gw}/api/v1/chat -H 'content-type: application/json' \\
       -d '{{"message": "How do I rotate an API key?", "sessionId": "demo"}}'
  curl -s '{gw}/api/v1/analytics/segments/at-risk/summary'

  # an operation the API's OpenAPI spec does not declare: a 404 problem with a request id
  curl -s -i {gw}/api/v1/internal/debug

  # the legacy article lookup builds SQL by string concatenation:
  curl -s '{gw}/api/v1/legacy/articles?{inject}'     # through sealgate: refused
  curl -s '{api}/api/v1/legacy/articles?{inject}'     # directly: the table is gone
  curl -s -X POST {api}/api/v1/admin/reset                 # put it back

  # free text cannot be typed by the spec, so the detection engine judges it: 403, explained in the audit log
  curl -s "{gw}/api/v1/articles?q=x%27%20UNION%20SELECT%20email,phone%20FROM%20customers--"
  grep '"protection":"injection"' {workdir}/audit.jsonl | tail -n 1

  # the audit log: one JSON event per request, blocked or not
  tail -n 3 {workdir}/audit.jsonl

Ctrl-C stops everything.
"""


def run(args: argparse.Namespace) -> int:
    """Start the sample API in a thread, then the gateway in the foreground."""
    from sealgate.demo.sample_api import SampleAPIThread
    from sealgate.server.run import serve

    workdir = Path(args.dir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = demo_config(args.port, args.api_port, args.admin_port, workdir)
    api = SampleAPIThread("127.0.0.1", args.api_port, workdir / "sample-api.db")
    try:
        api.start()
    except OSError as exc:
        raise ConfigError(
            f"the sample API cannot listen on 127.0.0.1:{args.api_port}: {exc.strerror}. "
            "Fix: stop what uses the port or pass --api-port."
        ) from None
    text = instructions(args.port, args.api_port, args.admin_port, workdir)
    try:
        serve(config, on_ready=lambda: print(text, flush=True))
    finally:
        api.stop()
    return 0
