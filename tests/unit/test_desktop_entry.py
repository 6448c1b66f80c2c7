"""trayai in the applications menu: the entry (validated, launching trayai), icons, manifest, refusals.

Everything is written under the test's ``XDG_DATA_HOME`` (tests/conftest.py) and read back for real:
``desktop-file-validate`` on the entry, Qt on the PNGs, the Exec line run as a program.
"""

from __future__ import annotations

import configparser
import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.smalldisk import SmallDisk, small_disk
from trayai import __version__
from trayai.core.autostart import apply_autostart
from trayai.core.desktop_entry import (
    DesktopError,
    DesktopPlaces,
    DesktopUnsupported,
    app_icon_source,
    exec_line,
    install,
    is_installed,
    launch_command,
    menu_entry,
    uninstall,
)
from trayai.core.paths import AppPaths
from trayai.ui.icon_render import render_png

ACTIONS = {"new-chat": "chat", "quick-prompt": "prompt", "settings": "settings"}


@pytest.fixture
def places(paths: AppPaths, tmp_path: Path) -> DesktopPlaces:
    places = DesktopPlaces.from_env(paths.data_dir)
    assert places.data_home.is_relative_to(tmp_path)  # never the real ~/.local/share
    return places


def ours(places: DesktopPlaces) -> list[Path]:
    return [places.entry, places.icon(None), places.icon(48), places.icon(256)]


def read_entry(path: Path) -> configparser.ConfigParser:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(path, encoding="utf-8")
    return entry


def exec_argv(value: str) -> list[str]:
    """An ``Exec=`` value back into argv, by the spec: string escapes, then quoting, then ``%%``."""
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    plain, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            plain.append(escapes[value[i + 1]])
            i += 2
        else:
            plain.append(value[i])
            i += 1
    text, args, i = "".join(plain), [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        arg = []
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    i += 1
                    assert text[i] in '"`$\\', f"undefined escape in {value!r}"
                arg.append(text[i])
                i += 1
            i += 1
        else:
            while i < len(text) and text[i] != " ":
                assert text[i] not in "\"'\\`$", f"reserved character unquoted in {value!r}"
                arg.append(text[i])
                i += 1
        args.append("".join(arg).replace("%%", "%"))
    return args


def validate(path: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.fail("desktop-file-validate is missing: install desktop-file-utils (apt)")
    result = subprocess.run([validator, str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def opaque_and_clear(path: Path, size: int) -> tuple[int, int]:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull() and (image.width(), image.height()) == (size, size)
    alphas = [image.pixelColor(x, y).alpha() for y in range(size) for x in range(size)]
    return sum(a == 255 for a in alphas), sum(a == 0 for a in alphas)


def test_install_writes_a_valid_entry_with_actions_that_starts_trayai(places: DesktopPlaces) -> None:
    result = install(places, render_png, platform="linux")
    assert [c.path for c in result.files] == [
        places.icon(None),
        places.icon(48),
        places.icon(256),
        places.entry,
    ]
    assert {c.change for c in result.files} == {"created"} and is_installed(places)
    validate(places.entry)
    entry = read_entry(places.entry)
    main = entry["Desktop Entry"]
    assert (main["Type"], main["Name"], main["Icon"], main["Terminal"]) == (
        "Application",
        "trayai",
        "trayai",
        "false",
    )
    assert main["Categories"] == "Utility;" and main["StartupWMClass"] == "trayai"
    assert main["GenericName"] and main["Comment"] and "AI;" in main["Keywords"]
    assert main["Actions"] == "new-chat;quick-prompt;settings;"
    command = exec_argv(main["Exec"])
    assert command == launch_command()
    program = Path(command[0])
    assert program.is_absolute() and program.is_file() and program.stat().st_mode & stat.S_IXUSR
    assert main["TryExec"] == command[0]
    for action, subcommand in ACTIONS.items():
        section = entry[f"Desktop Action {action}"]
        assert section["Name"] and exec_argv(section["Exec"]) == [*command, subcommand]
    # The Exec line really starts this trayai (asked for its version instead of the tray here).
    out = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.splitlines()[0] == f"trayai {__version__}"


def test_install_writes_the_svg_and_both_pngs_readable_by_the_desktop(places: DesktopPlaces) -> None:
    install(places, render_png, platform="linux")
    assert places.icon(None).read_bytes() == app_icon_source().read_bytes()
    for size in (48, 256):
        opaque, clear = opaque_and_clear(places.icon(size), size)
        assert opaque > size * size // 4 and clear > 0  # the bubble drawn, its corners see-through
    for path in ours(places):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_install_twice_is_idempotent_and_repairs_its_own_files(
    places: DesktopPlaces, paths: AppPaths
) -> None:
    install(places, render_png, platform="linux")
    manifest = (paths.data_dir / "desktop-install.json").read_text()
    first = {p: p.read_bytes() for p in ours(places)}
    again = install(places, render_png, platform="linux")
    assert {c.change for c in again.files} == {"unchanged"}
    assert {p: p.read_bytes() for p in ours(places)} == first
    assert (paths.data_dir / "desktop-install.json").read_text() == manifest
    places.entry.write_text("[Desktop Entry]\nName=broken\n", encoding="utf-8")
    places.icon(48).chmod(0o600)
    third = install(places, render_png, platform="linux")
    assert {c.path: c.change for c in third.files}[places.entry] == "replaced"
    assert places.entry.read_bytes() == first[places.entry]
    assert stat.S_IMODE(places.icon(48).stat().st_mode) == 0o644


def test_uninstall_removes_exactly_what_was_written(places: DesktopPlaces, paths: AppPaths) -> None:
    foreign = {
        places.entry.with_name("other-app.desktop"): b"[Desktop Entry]\nType=Application\nName=Other\n",
        places.icon(48).with_name("other-app.png"): render_png(app_icon_source().read_bytes(), 48),
    }
    for path, data in foreign.items():
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
    # Existing caches are kept current (a missing one is never created: test_cli_…_leaves_nothing).
    cache = places.icon(None).parents[2] / "icon-theme.cache"
    subprocess.run(["gtk-update-icon-cache", "-f", "-t", str(cache.parent)], check=True, capture_output=True)
    menu_cache = places.entry.with_name("mimeinfo.cache")
    subprocess.run(["update-desktop-database", str(menu_cache.parent)], check=True, capture_output=True)
    result = install(places, render_png, platform="linux")
    assert result.notes == (
        "refreshed the menu database (update-desktop-database)",
        "refreshed the icon cache (gtk-update-icon-cache)",
    )

    removed = uninstall(places, platform="linux")
    gone = [c.path for c in removed.files if c.change == "removed" and c.what != "folder"]
    assert sorted(gone) == sorted(ours(places)) and not is_installed(places)
    assert not any(p.exists() for p in ours(places))
    assert {p: p.read_bytes() for p in foreign} == foreign and cache.is_file() and menu_cache.is_file()
    assert places.icon(48).parent.is_dir()  # holds the other app's icon: kept
    assert not places.icon(256).parent.parent.exists()  # created by install, left empty: removed
    assert not (paths.data_dir / "desktop-install.json").exists()
    assert removed.summary() == "trayai was removed from the applications menu."
    assert uninstall(places, platform="linux").summary().endswith("nothing to remove.")


def test_uninstall_never_removes_a_file_install_did_not_write(places: DesktopPlaces, paths: AppPaths) -> None:
    places.entry.parent.mkdir(parents=True)
    places.entry.write_text(menu_entry(["/usr/bin/trayai"]), encoding="utf-8")  # a packaged one, say
    victim = paths.data_dir.parent / "notes.txt"
    victim.write_text("mine", encoding="utf-8")
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"version": 1, "files": [str(victim), "relative/trayai.desktop"], "dirs": [str(victim.parent)]}
    (paths.data_dir / "desktop-install.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = uninstall(places, platform="linux")
    assert result.files == () and victim.read_text() == "mine" and places.entry.is_file()
    assert result.left_alone == places.entry
    assert result.summary() == (
        f"{places.entry} was not written by `trayai desktop install`, so it was left alone: "
        "remove it by hand if you wish."
    )


@pytest.mark.parametrize(
    ("platform", "words"),
    [("win32", ("Windows", "Start menu", "not supported yet")), ("darwin", ("macOS", "not supported yet"))],
)
def test_windows_and_macos_are_refused_with_what_to_do(
    places: DesktopPlaces, platform: str, words: tuple[str, ...]
) -> None:
    for action in ("install", "uninstall"):
        with pytest.raises(DesktopUnsupported) as caught:
            if action == "install":
                install(places, render_png, platform=platform)
            else:
                uninstall(places, platform=platform)
        assert all(word in caught.value.message for word in words)
        assert "run `trayai` from a terminal" in caught.value.hint
    assert not places.data_home.exists()


def test_cli_refuses_on_windows_with_exit_1(monkeypatch: pytest.MonkeyPatch, places: DesktopPlaces) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    code, out, err = cli("desktop", "install")
    assert code == 1 and out == ""
    assert err.startswith("error: Windows: adding trayai to the Start menu") and "\n  → run `trayai`" in err
    assert not places.data_home.exists()


def test_cli_prints_each_file_installed_and_removed_and_leaves_nothing(places: DesktopPlaces) -> None:
    code, out, err = cli("desktop", "install")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4 and all(line.startswith("created ") for line in lines)
    assert str(places.entry) in out and "(menu entry)" in out and "(icon 256×256)" in out
    assert "trayai is in the applications menu" in err
    code, out, err = cli("desktop", "install", "--json")
    data = json.loads(out)
    assert code == 0 and data["action"] == "install"
    assert {f["path"]: f["change"] for f in data["files"]} == {str(p): "unchanged" for p in ours(places)}
    code, out, err = cli("desktop", "uninstall", "--json")
    data = json.loads(out)
    assert code == 0 and {f["path"] for f in data["files"] if f["what"] != "folder"} == {
        str(p) for p in ours(places)
    }
    assert not places.data_home.exists()  # a fresh home: every folder install made is gone again


def test_the_autostart_entry_starts_the_same_trayai_with_the_same_icon(
    places: DesktopPlaces, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    apply_autostart(enabled=True, platform="linux")
    install(places, render_png, platform="linux")
    login = read_entry(tmp_path / "config-home" / "autostart" / "trayai.desktop")["Desktop Entry"]
    menu = read_entry(places.entry)["Desktop Entry"]
    assert (
        (login["Exec"], login["Icon"])
        == (menu["Exec"], menu["Icon"])
        == (exec_line(launch_command()), "trayai")
    )


@pytest.mark.parametrize(
    "command",
    [
        ["/opt/my apps/trayai"],
        ["/home/o'neil/.venv/bin/python", "-m", "trayai.cli"],
        ['/srv/we"ird$dir/back\\slash`tick/100%/trayai', "chat"],
    ],
)
def test_exec_quoting_round_trips_and_validates(command: list[str], tmp_path: Path) -> None:
    assert exec_argv(exec_line(command)) == command
    path = tmp_path / "trayai.desktop"
    path.write_text(menu_entry(command), encoding="utf-8")
    validate(path)


def test_launch_command_prefers_the_running_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def script(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    running = script(tmp_path / "pipx" / "trayai")
    venv = script(tmp_path / "venv" / "bin" / "trayai")
    on_path = script(tmp_path / "path" / "trayai")
    monkeypatch.chdir(running.parent)
    assert launch_command(argv0="./trayai", scripts_dir=str(venv.parent)) == [str(running)]
    assert launch_command(argv0="/x/pytest", scripts_dir=str(venv.parent)) == [str(venv)]
    assert launch_command(argv0="/x/pytest", scripts_dir="/nowhere", which=lambda _: str(on_path)) == [
        str(on_path)
    ]
    on_path.chmod(0o644)  # not a program: never written into an entry
    assert launch_command(argv0="", scripts_dir="/nowhere", which=lambda _: str(on_path), python="/py") == [
        "/py",
        "-m",
        "trayai.cli",
    ]


@pytest.fixture
def disk(places: DesktopPlaces) -> Iterator[SmallDisk]:
    with small_disk(places.data_home) as mounted:
        yield mounted


def test_a_read_only_folder_is_a_clear_error_and_uninstall_finishes_later(
    disk: SmallDisk, places: DesktopPlaces
) -> None:
    disk.read_only()
    code, out, err = cli("desktop", "install")
    assert code == 1 and out == ""
    assert err.startswith(
        f"error: could not create the folder {places.icon(None).parent}: Read-only file system"
    )
    assert f"→ make {places.data_home} writable" in err and "Traceback" not in err
    disk.read_write()
    install(places, render_png, platform="linux")
    disk.read_only()
    with pytest.raises(DesktopError, match=r"could not remove .*: Read-only file system \(and 3 more\)"):
        uninstall(places, platform="linux")
    disk.read_write()
    assert sum(c.change == "removed" for c in uninstall(places, platform="linux").files) >= 4
    assert not any(p.exists() for p in ours(places))


def test_a_full_disk_is_a_clear_error_with_no_stray_files(disk: SmallDisk, places: DesktopPlaces) -> None:
    places.icon(None).parent.mkdir(parents=True)
    places.icon(48).parent.mkdir(parents=True)
    disk.fill()
    with pytest.raises(DesktopError) as caught:
        install(places, render_png, platform="linux")
    assert "No space left on device" in caught.value.message and "free some space" in caught.value.hint
    strays = [p for p in places.data_home.rglob("*") if p.is_file() and p.name != ".filler"]
    assert strays == [] and not places.manifest.exists()  # no half-written or temporary file, no record
    disk.free()
    assert {c.change for c in install(places, render_png, platform="linux").files} <= {"created", "replaced"}
    validate(places.entry)
