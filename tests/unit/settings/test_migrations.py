"""Older settings files brought up to date (a whole file through the store: test_store.py)."""

from __future__ import annotations

from trayai.core.settings.config import DEFAULT_PROFILE_NAME, SCHEMA_VERSION
from trayai.core.settings.migrations import migrate


def test_migration_without_an_endpoint_keeps_the_default_profile() -> None:
    warnings: list[str] = []
    data = migrate({"poll_interval": 9.0}, warnings)
    assert data == {"poll_interval": 9.0, "schema_version": SCHEMA_VERSION}
    assert warnings == []


def test_migration_of_an_empty_key_is_silent() -> None:
    warnings: list[str] = []
    data = migrate({"model": "m", "api_key": ""}, warnings)
    assert "api_key" not in data
    assert data["profiles"] == [{"name": DEFAULT_PROFILE_NAME, "model": "m"}]
    assert warnings == []
