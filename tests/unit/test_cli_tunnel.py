"""``sealgate tunnel sign-app``: the re-pin request that running bootloaders watch."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealgate.cli.main import main
from sealgate.secrets.resolve import SecretRef


def _config(tmp_path: Path, bootloader: str = "{enabled: true}") -> Path:
    path = tmp_path / "sealgate.yaml"
    path.write_text(f'secrets: {{store_path: "{tmp_path / "secrets.json"}"}}\n'
                    f"tunnel: {{enabled: true, key_reload_seconds: 5, bootloader: {bootloader}}}\n")
    return path


def test_sign_app_writes_a_new_token_every_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = SecretRef("store:code-pins-request", tmp_path / "secrets.json")
    assert token.read() is None
    assert main(["tunnel", "sign-app", "--config", str(_config(tmp_path))]) == 0
    first = token.read()
    out = capsys.readouterr().out
    assert "re-pin requested" in out and "within 5 s" in out and "/, /index.html" in out
    assert main(["tunnel", "sign-app", "--config", str(_config(tmp_path))]) == 0
    second = token.read()
    assert first and second and first != second


def test_sign_app_needs_the_bootloader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tunnel", "sign-app", "--config", str(_config(tmp_path, "{enabled: false}"))]) == 2
    assert "bootloader" in capsys.readouterr().err


def test_sign_app_cannot_write_a_file_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, f'{{enabled: true, repin_token: "file:{tmp_path / "pins"}"}}')
    assert main(["tunnel", "sign-app", "--config", str(config)]) == 2
    assert "store:" in capsys.readouterr().err  # change the file yourself, or use a store: reference
