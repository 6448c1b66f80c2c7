"""Keys live in the keychain or, visibly, for the session only; logs never show them."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from keyring.errors import KeyringError

from trayai.core.logs import RedactingFilter, setup_logging
from trayai.core.secrets import PLACEHOLDER_KEY, MemoryKeyring, SecretStore, resolve_api_key


def test_store_get_delete_rename(secrets: SecretStore, keyring_backend: MemoryKeyring) -> None:
    assert secrets.get("A") is None
    outcome = secrets.set("A", "sk-1")
    assert outcome.persistent and outcome.warning is None
    assert keyring_backend.store == {("trayai", "A"): "sk-1"}
    secrets.rename("A", "B")
    assert secrets.get("A") is None and secrets.get("B") == "sk-1"
    assert secrets.delete("B") and not secrets.delete("B")
    assert secrets.backend_name == "in-memory keyring (tests)"


class BrokenBackend(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError("org.freedesktop.DBus.Error.ServiceUnknown")


def test_a_failing_keychain_means_session_only_with_a_warning() -> None:
    store = SecretStore(BrokenBackend())
    outcome = store.set("Work", "sk-2")
    assert not outcome.persistent
    assert outcome.warning is not None and "session only" in outcome.warning
    assert store.get("Work") == "sk-2"  # usable now, forgotten at exit
    assert "session only" in store.backend_name


def test_no_backend_at_all() -> None:
    store = SecretStore(fail.Keyring())
    assert not store.persistent
    assert not store.set("X", "sk").persistent and store.get("X") == "sk"


def test_key_precedence(secrets: SecretStore) -> None:
    secrets.set("P", "stored")
    assert resolve_api_key(secrets, "P", "http://localhost:8080/v1", "env") == "env"
    assert resolve_api_key(secrets, "P", "http://localhost:8080/v1") == "stored"
    assert resolve_api_key(secrets, "Q", "http://localhost:8080/v1") == PLACEHOLDER_KEY == "dummy-key"


@pytest.fixture
def clean_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()


def test_redaction(clean_root_logger: None) -> None:
    redactor = RedactingFilter()
    redactor.add_secret("sk-very-secret")
    assert redactor.redact("key sk-very-secret here") == "key [redacted] here"
    assert redactor.redact("Authorization: Bearer abc.def") == "Authorization: Bearer [redacted]"
    assert redactor.redact('{"api_key": "xyz"}') == '{"api_key": "[redacted]"}'


def test_log_file_is_private_and_never_holds_a_key(tmp_path: Path, clean_root_logger: None) -> None:
    redactor = setup_logging(tmp_path / "logs")
    redactor.add_secret("sk-live-123456")
    log = logging.getLogger("trayai.test")
    log.info("sending with key %s", "sk-live-123456")
    log.info("headers: %s", {"Authorization": "Bearer sk-other-999"})
    for handler in logging.getLogger().handlers:
        handler.flush()
    path = tmp_path / "logs" / "trayai.log"
    text = path.read_text()
    assert "sending with key [redacted]" in text
    assert "sk-live-123456" not in text and "sk-other-999" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


class ExplodingBackend(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("the keychain was queried for a profile without a key")


def test_keyless_profiles_never_touch_the_keychain(paths) -> None:  # type: ignore[no-untyped-def]
    from trayai.core.config import ConfigStore
    from trayai.core.resolve import resolve_endpoint

    loaded = ConfigStore(paths).load()
    resolved = resolve_endpoint(loaded, SecretStore(ExplodingBackend()))
    assert resolved.endpoint.api_key == PLACEHOLDER_KEY

    backend = MemoryKeyring()
    store = SecretStore(backend)
    store.set(loaded.settings.active().name, "sk-stored")
    loaded.settings.active().key_in_keychain = True
    resolved = resolve_endpoint(loaded, store)
    assert resolved.endpoint.api_key == "sk-stored" and resolved.key_source.startswith("keychain")
