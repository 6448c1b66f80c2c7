"""What settings are never saved: nameless or twin profiles, unusable base URLs, a missing active one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.settings.samples import two_profiles
from trayai.core.errors import ConfigError
from trayai.core.settings.config import Settings
from trayai.core.settings.validate import validate_settings


def test_valid_settings_pass() -> None:
    validate_settings(Settings())
    validate_settings(two_profiles())


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda s: setattr(s.profiles[0], "name", ""), "needs a name"),
        (lambda s: setattr(s.profiles[0], "name", "   "), "needs a name"),
        (lambda s: setattr(s.profiles[0], "name", "Remote"), "same name"),
        (lambda s: setattr(s.profiles[0], "name", " Remote "), "same name"),
        (lambda s: setattr(s.profiles[1], "base_url", "ftp://x/v1"), "'Remote'"),
        (lambda s: setattr(s.profiles[1], "base_url", "ftp://x/v1"), "Unsupported scheme"),
        (lambda s: setattr(s.profiles[1], "base_url", ""), "empty"),
        (lambda s: setattr(s.profiles[1], "base_url", "http://localhost:99999/v1"), "port"),
        (lambda s: setattr(s, "active_profile", "Gone"), "'Gone'"),
        (lambda s: setattr(s, "profiles", []), "At least one"),
    ],
)
def test_validate_settings_rejects(mutate: Any, words: str) -> None:
    settings = two_profiles()
    mutate(settings)
    with pytest.raises(ConfigError) as info:
        validate_settings(settings)
    assert words in str(info.value)


def test_validate_accepts_urls_that_normalisation_fixes() -> None:
    settings = Settings()
    settings.profiles[0].base_url = "localhost:8080"
    validate_settings(settings)
