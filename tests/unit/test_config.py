"""sealgate.yaml validation: errors name the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealgate.config.example import render_example
from sealgate.config.load import load_config, parse_config_text
from sealgate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_a_file() -> None:
    config = parse_config_text("", env={})
    assert config.server.port == 8080
    assert config.admin.host == "127.0.0.1"
    assert config.routing.unknown_routes == "block"


def test_unknown_key_names_line_and_suggests() -> None:
    text = "server:\n  port: 8081\nupstream:\n  urls: [http://127.0.0.1:9]\n  conect_timeout: 3\n"
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "gw.yaml", env={})
    message = str(info.value)
    assert "gw.yaml:5:3: upstream.conect_timeout: unknown key. Did you mean 'connect_timeout'?" in message


def test_bad_value_names_line_value_and_fix() -> None:
    text = "limits:\n  max_body_bytes: -1\n"
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "gw.yaml", env={})
    message = str(info.value)
    assert "gw.yaml:2:3: limits.max_body_bytes" in message
    assert "greater than 0" in message and "(got -1)" in message
    assert "Fix: Largest request body accepted" in message and "Default: 1048576" in message


def test_several_errors_reported_together() -> None:
    text = "server: {port: 70000, workers: 0}\nrouting: {unknown_routes: maybe}\n"
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "gw.yaml", env={})
    message = str(info.value)
    assert "3 problems" in message
    assert "server.port" in message and "server.workers" in message and "routing.unknown_routes" in message
    assert "'block' or 'pass'" in message


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(ConfigError, match=r"gw.yaml:3:1: not valid YAML: .* at line 2\)"):
        parse_config_text("server:\n  port: [8080\n", "gw.yaml", env={})


def test_duplicate_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match="gw.yaml:3: key 'port' appears twice"):
        parse_config_text("server:\n  port: 1\n  port: 2\n", "gw.yaml", env={})


def test_environment_overrides_and_their_errors() -> None:
    config = parse_config_text("server: {port: 8081}\n", env={"SEALGATE_SERVER__PORT": "9999",
                                                             "SEALGATE_UPSTREAM__URLS": "[http://127.0.0.1:1]"})
    assert config.server.port == 9999
    assert config.upstream.urls == ("http://127.0.0.1:1",)
    with pytest.raises(ConfigError, match="environment variable SEALGATE_SERVER__PORT"):
        parse_config_text("", "gw.yaml", env={"SEALGATE_SERVER__PORT": "lots"})


def test_upstream_url_validation() -> None:
    with pytest.raises(ConfigError, match="not an http:// or https:// URL"):
        parse_config_text("upstream: {urls: [ftp://x]}\n", env={})
    config = parse_config_text("upstream: {urls: 'http://127.0.0.1:9001/'}\n", env={})
    assert config.upstream.urls == ("http://127.0.0.1:9001",)


def test_config_is_frozen() -> None:
    config = parse_config_text("", env={})
    with pytest.raises(Exception, match="frozen"):
        config.server.port = 1  # type: ignore[misc]


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file. Fix: create it"):
        load_config(tmp_path / "nope.yaml")


def test_relative_spec_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gw.yaml").write_text("routing: {spec: api.yaml}\n")
    config = load_config(tmp_path / "sub" / "gw.yaml", env={})
    assert config.routing.spec == tmp_path / "sub" / "api.yaml"


def test_example_config_is_current_and_valid() -> None:
    committed = (ROOT / "sealgate.example.yaml").read_text()
    assert committed == render_example(), "regenerate: sealgate example-config > sealgate.example.yaml"
    config = parse_config_text(committed, "sealgate.example.yaml", env={})
    assert config == parse_config_text("", env={})


def test_errors_never_echo_a_credential() -> None:
    text = "audit: {backend: postgres, dsn: 'mysql://admin:sg-planted-password-5e5e5e5e@db/x'}\n"
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "gw.yaml", env={})
    assert "sg-planted-password-5e5e5e5e" not in str(info.value)
    assert "gw.yaml:1" in str(info.value)


def test_bootloader_without_the_tunnel_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs the tunnel: set tunnel.enabled: true"):
        parse_config_text("tunnel: {bootloader: {enabled: true}}\n", "gw.yaml", env={})
