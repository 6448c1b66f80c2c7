"""The three-way settings merge, case by case, and the lock every settings writer holds (issue 23.3)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import psutil
import pytest

from tests.support.waiting import wait_until
from trayai.core.errors import ConfigError
from trayai.core.filelock import FileLockedError, exclusive_lock
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Action, Preset, Profile, Settings
from trayai.core.settings.merge import (
    CHANGED,
    REMOVED,
    Conflict,
    Side,
    merge_settings,
    merge_with_file,
    save_merged,
)
from trayai.core.settings.store import ConfigStore


def base_settings() -> Settings:
    settings = Settings()
    settings.profiles = [
        Profile(name="Local", base_url="http://127.0.0.1:8080/v1"),
        Profile(name="Lab", base_url="http://127.0.0.1:8181/v1", fallback="Local"),
    ]
    settings.active_profile = "Local"
    return settings


def three() -> tuple[Settings, Settings, Settings]:
    """base, mine and theirs, each its own copy of the same settings."""
    base = base_settings()
    return base, copy.deepcopy(base), copy.deepcopy(base)


def names(settings: Settings) -> list[str]:
    return [p.name for p in settings.profiles]


# --------------------------------------------------------------------------- single values


def test_a_field_only_one_side_changed_takes_that_side() -> None:
    base, mine, theirs = three()
    mine.poll_interval = 12.0
    theirs.notifications = False
    mine.profiles[0].generation.temperature = 0.2  # nested: generation ▸ temperature
    theirs.profiles[0].model = "qwen3"
    theirs.builtin_server.port = 9090
    result = merge_settings(base, mine, theirs)
    merged = result.settings
    assert result.conflicts == ()
    assert merged.poll_interval == 12.0 and merged.notifications is False
    assert merged.profiles[0].generation.temperature == 0.2 and merged.profiles[0].model == "qwen3"
    assert merged.builtin_server.port == 9090


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    base, mine, theirs = three()
    mine.hotkey = theirs.hotkey = "Ctrl+Alt+K"
    assert merge_settings(base, mine, theirs) == merge_settings(base, mine, mine)
    assert merge_settings(base, mine, theirs).conflicts == ()


@pytest.mark.parametrize(
    ("prefer", "poll", "model"), [(Side.MINE, 12.0, "mine"), (Side.THEIRS, 30.0, "theirs")]
)
def test_different_changes_to_one_field_are_conflicts_settled_for_the_side_asked(
    prefer: Side, poll: float, model: str
) -> None:
    base, mine, theirs = three()
    mine.poll_interval, theirs.poll_interval = 12.0, 30.0
    mine.profiles[1].model, theirs.profiles[1].model = "mine", "theirs"
    mine.server_notifications = True  # mine only: never part of the question
    result = merge_settings(base, mine, theirs, prefer=prefer)
    assert result.conflicts == (
        Conflict("poll_interval", "poll_interval", "12.0", "30.0"),
        Conflict("profiles[Lab].model", "Endpoint “Lab” ▸ model", '"mine"', '"theirs"'),
    )
    assert result.settings.poll_interval == poll and result.settings.profiles[1].model == model
    assert result.settings.server_notifications is True


# --------------------------------------------------------------------------- profiles


def test_profiles_added_on_either_side_are_kept() -> None:
    base, mine, theirs = three()
    mine.profiles.append(Profile(name="Mine", base_url="http://127.0.0.1:1/v1"))
    theirs.profiles.append(Profile(name="Theirs", base_url="http://127.0.0.1:2/v1"))
    result = merge_settings(base, mine, theirs)
    assert names(result.settings) == ["Local", "Lab", "Mine", "Theirs"] and result.conflicts == ()


def test_a_profile_removed_on_one_side_and_untouched_on_the_other_is_removed() -> None:
    base, mine, theirs = three()
    mine.profiles = mine.profiles[:1]  # mine removes Lab
    theirs.profiles.append(Profile(name="New", base_url="http://127.0.0.1:3/v1"))
    assert names(merge_settings(base, mine, theirs).settings) == ["Local", "New"]
    base, mine, theirs = three()
    theirs.profiles = theirs.profiles[:1]  # theirs removes Lab
    assert names(merge_settings(base, mine, theirs).settings) == ["Local"]


@pytest.mark.parametrize("prefer", [Side.MINE, Side.THEIRS])
def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict(prefer: Side) -> None:
    base, mine, theirs = three()
    mine.profiles[1].model = "edited here"
    theirs.profiles = theirs.profiles[:1]  # `trayai profile remove Lab`
    result = merge_settings(base, mine, theirs, prefer=prefer)
    assert result.conflicts == (Conflict("profiles[Lab]", "Endpoint “Lab”", CHANGED, REMOVED),)
    assert names(result.settings) == (["Local", "Lab"] if prefer is Side.MINE else ["Local"])
    base, mine, theirs = three()
    mine.profiles = mine.profiles[:1]  # deleted in the dialog
    theirs.profiles[1].model = "changed by the CLI"
    result = merge_settings(base, mine, theirs, prefer=prefer)
    assert result.conflicts == (Conflict("profiles[Lab]", "Endpoint “Lab”", REMOVED, CHANGED),)
    assert names(result.settings) == (["Local"] if prefer is Side.MINE else ["Local", "Lab"])
    if prefer is Side.THEIRS:
        assert result.settings.profiles[-1].model == "changed by the CLI"


def test_a_profile_renamed_here_stays_one_profile_with_their_changes() -> None:
    base, mine, theirs = three()
    mine.profiles[0].name = "Home"  # the dialog renames the active profile (its fallbacks follow)
    mine.active_profile = "Home"
    mine.profiles[1].fallback = "Home"
    theirs.profiles[0].model = "from-cli"
    theirs.profiles[1].fallback = "Local"
    theirs.profiles.append(Profile(name="Spare", base_url="http://127.0.0.1:4/v1", fallback="Local"))
    result = merge_settings(base, mine, theirs, origins={"Home": "Local", "Lab": "Lab"})
    merged = result.settings
    assert result.conflicts == ()
    assert names(merged) == ["Home", "Lab", "Spare"]
    assert merged.profiles[0].model == "from-cli"
    assert merged.active_profile == "Home"
    assert [p.fallback for p in merged.profiles[1:]] == ["Home", "Home"]  # their new one follows too


def test_a_new_profile_reusing_a_renamed_ones_name_is_another_profile() -> None:
    base, mine, theirs = three()
    mine.profiles[0].name = "Old local"
    mine.active_profile = "Old local"
    mine.profiles.append(Profile(name="Local", base_url="http://127.0.0.1:5/v1"))
    theirs.profiles[0].model = "from-cli"
    origins = {"Old local": "Local", "Lab": "Lab", "Local": None}
    merged = merge_settings(base, mine, theirs, origins=origins).settings
    assert names(merged) == ["Old local", "Lab", "Local"]
    assert merged.profiles[0].model == "from-cli"  # their change went to the profile it was made to
    assert merged.profiles[2].base_url == "http://127.0.0.1:5/v1"


def test_a_profile_added_on_both_sides_under_one_name_merges_and_differences_conflict() -> None:
    base, mine, theirs = three()
    mine.profiles.append(Profile(name="Twin", base_url="http://127.0.0.1:6/v1", model="m"))
    theirs.profiles.append(Profile(name="Twin", base_url="http://127.0.0.1:7/v1", model="m"))
    result = merge_settings(base, mine, theirs, prefer=Side.THEIRS)
    assert [c.path for c in result.conflicts] == ["profiles[Twin].base_url"]
    assert result.settings.profiles[2].base_url == "http://127.0.0.1:7/v1"


def test_the_active_profile_and_fallbacks_follow_what_is_left() -> None:
    base, mine, theirs = three()
    theirs.active_profile = "Lab"  # `trayai profile use Lab`
    mine.profiles[0].name = "Home"  # renaming the active profile is not choosing another one
    mine.active_profile = "Home"
    before = copy.deepcopy(mine)
    result = merge_settings(base, mine, theirs, origins={"Home": "Local", "Lab": "Lab"})
    assert result.settings.active_profile == "Lab" and result.conflicts == ()
    assert mine == before  # the dialog's copy is never changed by merging it
    base, mine, theirs = three()
    mine.profiles[1].fallback = "Local"
    mine.profiles[0].fallback = "Lab"  # new here
    theirs.profiles = theirs.profiles[1:]  # `trayai profile remove Local` (Lab's fallback cleared)
    theirs.profiles[0].fallback = ""
    theirs.active_profile = "Lab"
    result = merge_settings(base, mine, theirs, prefer=Side.THEIRS)
    assert [c.path for c in result.conflicts] == ["profiles[Local]"]  # changed here, removed there
    assert names(result.settings) == ["Lab"] and result.settings.profiles[0].fallback == ""
    assert result.settings.active_profile == "Lab"


# --------------------------------------------------------------------------- presets and actions


def test_presets_and_actions_merge_by_name() -> None:
    base, mine, theirs = three()
    mine.presets.append(Preset(name="Mine", system_prompt="m"))
    theirs.presets.append(Preset(name="Theirs", system_prompt="t"))
    theirs.presets = [p for p in theirs.presets if p.name != "Translator"]  # removed there
    mine.presets[0].temperature = 0.9  # Concise, changed here
    theirs.presets[1].system_prompt = "Review."  # Code reviewer, changed there
    mine.actions = [a for a in mine.actions if a.name != "Fix grammar"]  # removed here
    theirs.actions.append(Action("Shorten", "Shorten:\n\n{selection}", 5))
    result = merge_settings(base, mine, theirs)
    merged = result.settings
    assert result.conflicts == ()
    assert [p.name for p in merged.presets] == ["Concise", "Code reviewer", "Mine", "Theirs"]
    assert merged.presets[0].temperature == 0.9 and merged.presets[1].system_prompt == "Review."
    assert [a.name for a in merged.actions] == ["Explain", "Summarise", "Translate to English", "Shorten"]


def test_a_preset_changed_on_both_sides_is_a_conflict() -> None:
    base, mine, theirs = three()
    mine.presets[0].system_prompt, theirs.presets[0].system_prompt = "mine", "theirs"
    result = merge_settings(base, mine, theirs, prefer=Side.THEIRS)
    assert result.conflicts == (
        Conflict("presets[Concise].system_prompt", "Preset “Concise” ▸ system_prompt", '"mine"', '"theirs"'),
    )
    assert result.settings.presets[0].system_prompt == "theirs"


# --------------------------------------------------------------------------- with the file


def test_merging_with_a_missing_or_damaged_file_keeps_mine_and_moves_nothing(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    base, mine, _ = three()
    mine.poll_interval = 12.0
    assert merge_with_file(store, base, mine).settings == mine  # no file yet
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("{not json")
    assert merge_with_file(store, base, mine).settings == mine
    assert paths.config_file.read_text() == "{not json"  # no one's change to keep, nothing moved aside


def test_save_merged_writes_nothing_while_a_conflict_is_unanswered(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    base, mine, theirs = three()
    store.save(theirs)
    mine.poll_interval, theirs.poll_interval = 12.0, 30.0
    store.save(theirs)
    before = paths.config_file.read_text()
    result = save_merged(store, base, mine)
    assert not result.saved and [c.path for c in result.conflicts] == ["poll_interval"]
    assert paths.config_file.read_text() == before
    result = save_merged(store, base, mine, prefer=Side.MINE, answered=result.conflicts)
    assert result.saved and store.load().settings.poll_interval == 12.0


# --------------------------------------------------------------------------- the lock


def test_update_changes_the_file_as_it_is_now_under_the_lock(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    stale = base_settings()
    store.save(stale)
    elsewhere = copy.deepcopy(stale)
    elsewhere.profiles.append(Profile(name="Remote", base_url="http://127.0.0.1:9/v1"))
    store.save(elsewhere)  # saved by someone else after `stale` was loaded

    def change(settings: Settings) -> str:
        with pytest.raises(FileLockedError), exclusive_lock(store.lock_path):
            pass  # held: nobody else can read-modify-write now
        settings.poll_interval = 12.0
        return "done"

    updated = store.update(change)
    assert updated.value == "done"
    assert names(store.load().settings) == ["Local", "Lab", "Remote"] == names(updated.settings)
    assert store.load().settings.poll_interval == 12.0
    assert oct(store.lock_path.stat().st_mode & 0o777) == "0o600"


def test_a_writer_gives_up_with_a_clear_error_when_the_lock_stays_held(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ConfigStore(paths)
    monkeypatch.setattr(ConfigStore, "LOCK_WAIT", 0.05)
    with store.locked(), pytest.raises(ConfigError, match="being saved by another trayai"):
        store.update(lambda settings: setattr(settings, "poll_interval", 12.0))
    assert not paths.config_file.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="sees the CLI's open files through /proc")
def test_the_cli_waits_for_the_lock_then_keeps_what_was_saved_meanwhile(paths: AppPaths) -> None:
    """A real `trayai config set` that loaded the file before the tray's write waits for the tray's
    lock, then changes its one field on what the tray saved."""
    store = ConfigStore(paths)
    store.save(base_settings())
    with store.locked():
        proc = subprocess.Popen(
            [sys.executable, "-m", "trayai.cli", "config", "set", "poll_interval", "30"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            child = psutil.Process(proc.pid)
            wait_until(
                lambda: any(f.path == str(store.lock_path) for f in child.open_files()),
                30,
                "the CLI to try the settings lock",
            )
            tray = store.load().settings  # the tray's write, while the CLI waits
            tray.active_profile = "Lab"
            store.save(tray)
        except BaseException:
            proc.kill()
            raise
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    saved = json.loads(paths.config_file.read_text())
    assert saved["active_profile"] == "Lab" and saved["poll_interval"] == 30.0


def test_choosing_different_active_profiles_is_a_conflict_shown_by_name() -> None:
    base, mine, theirs = three()
    mine.profiles[0].name = "Home"  # renamed here: shown under its new name
    mine.profiles[1].fallback = "Home"
    mine.active_profile = "Home"
    theirs.profiles.append(Profile(name="Remote", base_url="http://127.0.0.1:9/v1"))
    theirs.active_profile = "Remote"
    mine_again = copy.deepcopy(mine)
    mine_again.active_profile = "Lab"  # and then "Use this endpoint" on Lab
    result = merge_settings(base, mine_again, theirs, origins={"Home": "Local", "Lab": "Lab"})
    assert result.conflicts == (Conflict("active_profile", "active_profile", '"Lab"', '"Remote"'),)
    assert result.settings.active_profile == "Lab"
