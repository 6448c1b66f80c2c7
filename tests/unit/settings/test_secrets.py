"""API keys in the keychain, the honest session-only fallback, and which key gets sent."""

from __future__ import annotations

import logging
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

from trayai.core.paths import AppPaths
from trayai.core.settings.resolve import resolve_endpoint
from trayai.core.settings.secrets import (
    PLACEHOLDER_KEY,
    SERVICE,
    KeyOutcome,
    MemoryKeyring,
    SecretStore,
    describe_backend,
    key_needed_hint,
    resolve_api_key,
)
from trayai.core.settings.store import ConfigStore


class BrokenKeyring:
    """A backend whose every call fails, like a Secret Service that vanished from D-Bus."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append("get")
        raise self.exc

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        raise self.exc

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append("delete")
        raise self.exc


# --------------------------------------------------------------------------- MemoryKeyring


def test_memory_keyring_basics() -> None:
    backend = MemoryKeyring()
    assert backend.get_password("svc", "user") is None
    backend.set_password("svc", "user", "pw")
    assert backend.get_password("svc", "user") == "pw"
    assert backend.store == {("svc", "user"): "pw"}
    backend.delete_password("svc", "user")
    assert backend.get_password("svc", "user") is None
    with pytest.raises(PasswordDeleteError):
        backend.delete_password("svc", "user")


def test_memory_keyring_is_never_chosen_automatically() -> None:
    with pytest.raises(RuntimeError):
        _ = MemoryKeyring.priority


# --------------------------------------------------------------------------- a working keychain


def test_set_get_delete(secrets: SecretStore, keyring_backend: MemoryKeyring) -> None:
    assert secrets.get("Local") is None
    outcome = secrets.set("Local", "sk-123")
    assert outcome == KeyOutcome(persistent=True, backend="in-memory keyring (tests)", warning=None)
    assert secrets.get("Local") == "sk-123"
    assert keyring_backend.store == {(SERVICE, "Local"): "sk-123"}
    assert secrets.delete("Local") is True
    assert secrets.get("Local") is None
    assert keyring_backend.store == {}
    assert secrets.delete("Local") is False


def test_keys_are_per_profile(secrets: SecretStore) -> None:
    secrets.set("A", "key-a")
    secrets.set("B", "key-b")
    assert (secrets.get("A"), secrets.get("B")) == ("key-a", "key-b")
    secrets.set("A", "key-a2")
    assert (secrets.get("A"), secrets.get("B")) == ("key-a2", "key-b")


def test_setting_an_empty_key_deletes_it(secrets: SecretStore, keyring_backend: MemoryKeyring) -> None:
    secrets.set("A", "key-a")
    outcome = secrets.set("A", "")
    assert outcome.persistent is True
    assert outcome.warning is None
    assert secrets.get("A") is None
    assert keyring_backend.store == {}


def test_rename_moves_the_key(secrets: SecretStore, keyring_backend: MemoryKeyring) -> None:
    secrets.set("Old", "sk-old")
    secrets.rename("Old", "New")
    assert secrets.get("New") == "sk-old"
    assert secrets.get("Old") is None
    assert keyring_backend.store == {(SERVICE, "New"): "sk-old"}


def test_rename_to_the_same_name_keeps_the_key(secrets: SecretStore) -> None:
    secrets.set("Same", "sk-same")
    secrets.rename("Same", "Same")
    assert secrets.get("Same") == "sk-same"


def test_rename_without_a_key_does_nothing(secrets: SecretStore, keyring_backend: MemoryKeyring) -> None:
    secrets.set("Other", "sk-other")
    secrets.rename("Old", "New")
    assert secrets.get("New") is None
    assert keyring_backend.store == {(SERVICE, "Other"): "sk-other"}


def test_backend_name_and_persistence(secrets: SecretStore) -> None:
    assert secrets.backend_name == "in-memory keyring (tests)"
    assert secrets.persistent is True


def test_a_non_string_from_the_backend_is_no_key() -> None:
    backend = MemoryKeyring()
    backend.store[(SERVICE, "A")] = b"bytes"  # type: ignore[assignment]
    assert SecretStore(backend).get("A") is None


# --------------------------------------------------------------------------- a failing keychain


@pytest.mark.parametrize(
    "exc",
    [
        KeyringError("the keyring is broken"),
        KeyringLocked("locked"),
        RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable"),
        OSError("no D-Bus session"),
    ],
)
@pytest.mark.expect_log("trayai.core.settings.secrets", "keys are session-only")
def test_a_failing_backend_keeps_the_key_for_this_session(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    backend = BrokenKeyring(exc)
    store = SecretStore(backend)
    assert store.persistent is True  # nothing known yet: no call has failed
    with caplog.at_level(logging.WARNING, logger="trayai.core.settings.secrets"):
        outcome = store.set("Remote", "sk-remote-secret")
    assert outcome.persistent is False
    assert outcome.warning is not None
    assert "session" in outcome.warning
    assert "'Remote'" in outcome.warning
    assert type(exc).__name__ in outcome.warning
    assert "sk-remote-secret" not in outcome.warning
    assert outcome.backend == "this session only (no keychain available)"
    assert store.persistent is False
    assert store.backend_name == "this session only (no keychain available)"
    assert store.get("Remote") == "sk-remote-secret"
    assert "sk-remote-secret" not in caplog.text
    assert any("session-only" in r.getMessage() for r in caplog.records)
    # Once broken, the backend is left alone instead of failing (and timing out) on every call.
    calls = list(backend.calls)
    assert store.get("Other") is None
    store.set("Other", "sk-2")
    assert backend.calls == calls
    assert store.get("Other") == "sk-2"


@pytest.mark.expect_log("trayai.core.settings.secrets", "keys are session-only")
def test_a_backend_failing_on_read_is_survived() -> None:
    store = SecretStore(BrokenKeyring(KeyringError("locked")))
    assert store.get("A") is None
    assert store.persistent is False
    outcome = store.set("A", "sk-a")
    assert (outcome.persistent, store.get("A")) == (False, "sk-a")


@pytest.mark.expect_log("trayai.core.settings.secrets", "keys are session-only")
def test_delete_on_a_failing_backend_forgets_the_session_key() -> None:
    store = SecretStore(BrokenKeyring(RuntimeError("D-Bus")))
    store.set("A", "sk-a")
    assert store.delete("A") is True
    assert store.get("A") is None
    assert store.delete("A") is False


@pytest.mark.expect_log("trayai.core.settings.secrets", "keys are session-only")
def test_rename_on_a_failing_backend() -> None:
    store = SecretStore(BrokenKeyring(RuntimeError("D-Bus")))
    store.set("Old", "sk-old")
    store.rename("Old", "New")
    assert (store.get("Old"), store.get("New")) == (None, "sk-old")


def test_the_fail_backend_is_not_persistent_from_the_start() -> None:
    store = SecretStore(keyring.backends.fail.Keyring())
    assert store.persistent is False
    assert store.backend_name == "this session only (no keychain available)"
    outcome = store.set("A", "sk-a")
    assert outcome.persistent is False
    assert outcome.warning is not None and "session" in outcome.warning
    assert "no keyring backend" in outcome.warning
    assert store.get("A") == "sk-a"


def test_a_working_backend_keeps_no_session_copy(
    secrets: SecretStore, keyring_backend: MemoryKeyring
) -> None:
    secrets.set("A", "sk-a")
    keyring_backend.store.clear()  # deleted from outside (e.g. in Seahorse)
    assert secrets.get("A") is None


# --------------------------------------------------------------------------- the default backend


def test_the_default_backend_is_chosen_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen: list[Any] = []

    def fake_get_keyring() -> MemoryKeyring:
        backend = MemoryKeyring()
        chosen.append(backend)
        return backend

    monkeypatch.setattr(keyring, "get_keyring", fake_get_keyring)
    store = SecretStore()
    assert chosen == []
    assert store.set("A", "sk-a").persistent is True
    assert len(chosen) == 1
    assert chosen[0].store == {(SERVICE, "A"): "sk-a"}
    assert store.get("A") == "sk-a"
    assert len(chosen) == 1


def test_a_broken_keyring_installation_means_session_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode() -> None:
        raise RuntimeError("no backend could be loaded")

    monkeypatch.setattr(keyring, "get_keyring", explode)
    store = SecretStore()
    assert store.persistent is False
    outcome = store.set("A", "sk-a")
    assert outcome.persistent is False
    assert outcome.warning is not None and "RuntimeError" in outcome.warning
    assert store.get("A") == "sk-a"


def test_the_default_fail_backend_means_session_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", keyring.backends.fail.Keyring)
    store = SecretStore()
    assert store.persistent is False
    assert store.get("A") is None


# --------------------------------------------------------------------------- which key is sent


def test_resolve_api_key_precedence(secrets: SecretStore) -> None:
    url = "https://api.example.com/v1"
    assert resolve_api_key(None, "A", url) == PLACEHOLDER_KEY == "dummy-key"
    assert resolve_api_key(secrets, "A", url) == "dummy-key"
    secrets.set("A", "sk-stored")
    assert resolve_api_key(secrets, "A", url) == "sk-stored"
    assert resolve_api_key(secrets, "A", url, env_key="sk-env") == "sk-env"
    assert resolve_api_key(secrets, "A", url, env_key="") == "sk-stored"
    assert resolve_api_key(secrets, "B", url) == "dummy-key"
    assert resolve_api_key(None, "A", url, env_key="sk-env") == "sk-env"


def test_resolve_api_key_uses_a_session_only_key() -> None:
    store = SecretStore(keyring.backends.fail.Keyring())
    store.set("A", "sk-session")
    assert resolve_api_key(store, "A", "http://localhost:8080/v1") == "sk-session"


@pytest.mark.parametrize(
    ("url", "needs_hint"),
    [
        ("http://localhost:8080/v1", False),
        ("http://192.168.1.10:8080/v1", False),
        ("http://my-box.local:8080/v1", False),
        ("https://api.openai.com/v1", True),
    ],
)
def test_key_needed_hint(url: str, needs_hint: bool) -> None:
    hint = key_needed_hint(url)
    if needs_hint:
        assert hint is not None and "API key" in hint
    else:
        assert hint is None


# --------------------------------------------------------------------------- backend names


def test_describe_backend_names() -> None:
    assert describe_backend(MemoryKeyring()) == "in-memory keyring (tests)"
    assert describe_backend(keyring.backends.fail.Keyring()) == "keyring.backends.fail.Keyring"

    mac = type("Keyring", (), {"__module__": "keyring.backends.macOS"})()
    assert describe_backend(mac) == "macOS Keychain"
    windows = type("WinVaultKeyring", (), {"__module__": "keyring.backends.Windows"})()
    assert describe_backend(windows) == "Windows Credential Locker"
    secret_service = type("Keyring", (), {"__module__": "keyring.backends.SecretService"})()
    assert describe_backend(secret_service) == "Secret Service (GNOME Keyring / KWallet)"

    chainer = type("ChainerBackend", (), {"__module__": "keyring.backends.chainer"})()
    chainer.backends = [secret_service, MemoryKeyring()]
    assert describe_backend(chainer) == "Secret Service (GNOME Keyring / KWallet) + in-memory keyring (tests)"


def test_an_empty_chainer_is_not_usable() -> None:
    chainer = type("ChainerBackend", (), {"__module__": "keyring.backends.chainer"})()
    chainer.backends = []
    assert SecretStore(chainer).persistent is False


# --------------------------------------------------------------------------- only when a key is expected


class ExplodingKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("the keychain was queried for a profile without a key")


def test_keyless_profiles_never_touch_the_keychain(paths: AppPaths) -> None:
    """A lookup can start gnome-keyring and block on an unlock prompt: a keyless server never asks."""
    loaded = ConfigStore(paths).load()
    resolved = resolve_endpoint(loaded, SecretStore(ExplodingKeyring()))
    assert resolved.endpoint.api_key == PLACEHOLDER_KEY

    store = SecretStore(MemoryKeyring())
    store.set(loaded.settings.active().name, "sk-stored")
    loaded.settings.active().key_in_keychain = True
    resolved = resolve_endpoint(loaded, store)
    assert resolved.endpoint.api_key == "sk-stored"
    assert resolved.key_source.startswith("keychain")
