"""The settings dialog's rules without Qt: what is refused, with which sentence, about which profile.
The dialog running them page by page on OK: tests/ui/test_settings_checks.py."""

from __future__ import annotations

import pytest

from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.rules import (
    EditedProfile,
    duplicate_name,
    follow_active,
    follow_renames,
    hotkey_problem,
    profile_problem,
    unique_name,
)


def edited(
    *profiles: Profile, active: str | None = None
) -> tuple[Settings, list[EditedProfile], dict[int, str]]:
    """Settings holding ``profiles`` under ids 10, 11…, and their names at open."""
    settings = Settings()
    settings.profiles = list(profiles)
    settings.active_profile = active or profiles[0].name
    entries = [EditedProfile(10 + i, p) for i, p in enumerate(profiles)]
    return settings, entries, {e.uid: e.profile.name for e in entries}


def test_a_good_profile_passes_and_its_url_is_normalised() -> None:
    profile = Profile(name="Ollama", base_url="localhost:11434", model="llama3")
    assert profile_problem(profile, url_locked=False) is None
    assert profile.base_url == "http://localhost:11434/v1"


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (Profile(name="  ", model="m"), "Every endpoint needs a name."),
        (Profile(name="A", base_url="ftp://nope", model="m"), "“A”: "),
        (Profile(name="A", base_url="http://", model="m"), "“A”: "),
        (Profile(name="A", model=" "), "“A” needs a model name (pick one from the list or type it)."),
    ],
)
def test_a_profile_problem_is_one_sentence(profile: Profile, message: str) -> None:
    problem = profile_problem(profile, url_locked=False)
    assert problem is not None and problem.startswith(message)


def test_a_url_set_by_the_environment_is_not_checked_or_touched() -> None:
    profile = Profile(name="A", base_url="ftp://nope", model="m")
    assert profile_problem(profile, url_locked=True) is None
    assert profile.base_url == "ftp://nope"


def test_the_name_is_checked_before_the_url_and_the_model() -> None:
    assert profile_problem(Profile(name="", base_url="ftp://x", model=""), url_locked=False) == (
        "Every endpoint needs a name."
    )


def test_hotkey_is_optional_and_stored_canonically() -> None:
    settings = Settings(hotkey="")
    assert hotkey_problem(settings) is None and settings.hotkey == ""
    settings.hotkey = "shift+ctrl+space"
    assert hotkey_problem(settings) is None
    assert settings.hotkey == "Ctrl+Shift+Space"


def test_a_bad_hotkey_is_refused_with_the_reason() -> None:
    settings = Settings(hotkey="Ctrl+A+B")
    problem = hotkey_problem(settings)
    assert problem is not None and problem.startswith("Hotkey: ") and "exactly one" in problem
    assert settings.hotkey == "Ctrl+A+B"


def test_duplicate_names_point_at_the_first_twin() -> None:
    a, b, c = Profile(name="A"), Profile(name="B"), Profile(name="B")
    assert duplicate_name([a, b, c]) is b
    assert duplicate_name([a, b]) is None


def test_the_active_profile_follows_a_rename() -> None:
    settings, entries, names = edited(Profile(name="A"), Profile(name="B"), active="B")
    entries[1].profile.name = "Renamed"
    follow_active(settings, entries, names)
    assert settings.active_profile == "Renamed"


def test_a_deleted_active_profile_gives_way_to_the_first() -> None:
    settings, entries, names = edited(Profile(name="A"), Profile(name="B"), active="B")
    settings.profiles = [entries[0].profile]
    follow_active(settings, entries[:1], names)
    assert settings.active_profile == "A"


def test_a_new_profile_chosen_with_use_stays_active() -> None:
    settings, entries, names = edited(Profile(name="A"))
    new = EditedProfile(99, Profile(name="New"))
    settings.profiles.append(new.profile)
    settings.active_profile = "New"
    follow_active(settings, [*entries, new], names)
    assert settings.active_profile == "New"


def test_unique_names_count_up() -> None:
    assert unique_name("New endpoint", ["default"]) == "New endpoint"
    assert unique_name("New endpoint", ["New endpoint"]) == "New endpoint 2"
    assert unique_name("X", ["X", "X 2", "X 3"]) == "X 4"
    assert unique_name("X", iter(["X"])) == "X 2"


def test_a_renamed_profile_stays_the_fallback_of_the_others() -> None:
    settings, entries, names = edited(
        Profile(name="Laptop", base_url="http://127.0.0.1:8080/v1", fallback="Ollama, Cloud"),
        Profile(name="Ollama", base_url="http://127.0.0.1:11434/v1"),
        Profile(name="Cloud", base_url="https://api.example.com/v1"),
    )
    entries[1].profile.name = "Ollama box"
    follow_renames(entries, names)
    assert settings.profiles[0].fallback_names() == ["Ollama box", "Cloud"]
    assert settings.profiles[2].fallback_names() == []  # a profile without fallbacks is left alone
