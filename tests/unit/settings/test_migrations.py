"""Older settings files brought up to date (a whole file through the store: test_store.py)."""

from __future__ import annotations

from trayai.core.settings.config import DEFAULT_ACTIONS, DEFAULT_PROFILE_NAME, SCHEMA_VERSION
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


def test_version_1_copies_of_the_default_rewrites_become_rewrites_and_nothing_else_does() -> None:
    """A saved actions list from before ``replaces`` keeps Replace selection for the two default
    rewrites; a changed template or an action of the person's own is left as it was."""
    translate, fix = (a for a in DEFAULT_ACTIONS if a.replaces)
    saved = [
        {"name": translate.name, "key": 3, "template": translate.template},
        {"name": fix.name, "key": 4, "template": "Fix this: {selection}"},
        {"name": "Mine", "key": 5, "template": "{selection}"},
    ]
    data = migrate({"schema_version": 1, "actions": saved}, [])
    assert data["actions"] is saved
    assert [a.get("replaces") for a in saved] == [True, None, None]
