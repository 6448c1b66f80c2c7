"""The settings schema: defaults that are never shared, bounds that hold their defaults."""

from __future__ import annotations

import dataclasses

from trayai.core.settings.config import BuiltinServerSettings, GenerationParams, Profile, Settings


def test_mutable_defaults_are_not_shared() -> None:
    first, second = Settings(), Settings()
    first.profiles.append(Profile(name="Other"))
    first.profiles[0].generation.temperature = 0.1
    first.builtin_server.port = 9000
    assert len(second.profiles) == 1
    assert second.profiles[0].generation.temperature == 0.7
    assert second.builtin_server.port == 8080
    assert Settings().profiles[0].generation.temperature == 0.7


def test_every_bounded_field_has_consistent_bounds() -> None:
    for cls in (GenerationParams, Profile, BuiltinServerSettings, Settings):
        for f in dataclasses.fields(cls):
            low, high = f.metadata.get("min"), f.metadata.get("max")
            if low is not None and high is not None:
                assert low < high
                if isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
                    assert low <= f.default <= high, f.name
