"""Secret sources: env, file, the embedded store (plain and encrypted), references."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sealgate.errors import ConfigError
from sealgate.secrets.keyring import LocalSecretStore
from sealgate.secrets.resolve import open_secret, validate_ref


def test_references_must_name_a_place_not_a_value() -> None:
    assert validate_ref("env:TOKEN") == "env:TOKEN"
    for bad in ("hunter2", "env:", "vault:x", ""):
        with pytest.raises(ValueError, match="not a secret reference"):
            validate_ref(bad)


def test_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_TEST_SECRET", "from-env")
    assert open_secret("env:SG_TEST_SECRET", tmp_path / "s.json") == "from-env"
    (tmp_path / "secret.txt").write_text("from-file\n")
    assert open_secret(f"file:{tmp_path / 'secret.txt'}", tmp_path / "s.json") == "from-file"
    with pytest.raises(ConfigError, match="environment variable SG_NOPE is not set"):
        open_secret("env:SG_NOPE", tmp_path / "s.json", generate=lambda: "x")  # never generated for env:


def test_store_generates_once_and_is_owner_only(tmp_path: Path) -> None:
    store = tmp_path / "state" / "secrets.json"
    calls: list[int] = []

    def gen() -> str:
        calls.append(1)
        return "generated-value"

    assert open_secret("store:k", store, generate=gen) == "generated-value"
    assert open_secret("store:k", store, generate=gen) == "generated-value"
    assert len(calls) == 1
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600


def test_encrypted_store_needs_the_master_key(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    LocalSecretStore(path, master_key="correct horse").write("k", "top-value")
    assert b"top-value" not in path.read_bytes()
    assert LocalSecretStore(path, master_key="correct horse").read("k") == "top-value"
    with pytest.raises(ConfigError, match="cannot decrypt"):
        LocalSecretStore(path, master_key="wrong").read("k")
    with pytest.raises(ConfigError, match="is encrypted"):
        LocalSecretStore(path, master_key="").read("k")


def test_damaged_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not a sealgate secret store"):
        LocalSecretStore(path).read("k")
