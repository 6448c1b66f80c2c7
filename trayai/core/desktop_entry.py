"""trayai in the applications menu (``trayai desktop install|uninstall``): the XDG menu entry and icons.

What is written on Linux and other XDG desktops, under ``$XDG_DATA_HOME`` (``~/.local/share``):

* ``applications/trayai.desktop`` — the menu entry, with New chat / Quick prompt / Settings actions;
* ``icons/hicolor/scalable/apps/trayai.svg`` and ``icons/hicolor/{48x48,256x256}/apps/trayai.png`` —
  the ``trayai`` icon the entry (and the autostart entry) names.

These files are 0644, unlike the rest of trayai's user-only files: they describe a program, hold no
secret, and desktop components read them. What was written (and which folders were created) is kept
in a manifest in trayai's data folder, so ``uninstall`` removes exactly those files and then only the
folders it created that are left empty — never a file it did not write, even one with our name.

The Exec line is built once here (:func:`launch_command`, :func:`exec_line`) and shared with the
autostart entry, so the menu and the login item start the same trayai. PNG rendering needs Qt, so it is
passed in (``render_png``): this module stays Qt-free. Windows and macOS are refused with what to do
instead (:class:`DesktopUnsupported`), never a silent no-op.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.resources
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from trayai import APP_NAME
from trayai.core.errors import AppError
from trayai.core.files import atomic_write_bytes, atomic_write_text

ICON_NAME = "trayai"  # Icon= of the menu entry and the autostart entry: the hicolor theme name
ENTRY_NAME = f"{APP_NAME}.desktop"
PNG_SIZES = (48, 256)
MANIFEST_NAME = "desktop-install.json"
MANIFEST_VERSION = 1
COMMENT = "Tray assistant for local AI models"
# (action id, its name in the menu, the trayai command it runs)
ACTIONS = (
    ("new-chat", "New chat", "chat"),
    ("quick-prompt", "Quick prompt", "prompt"),
    ("settings", "Settings", "settings"),
)
FILE_MODE = 0o644
CACHE_TOOL_TIMEOUT = 30.0
# Desktop Entry spec, "The Exec key": an argument with one of these is quoted.
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")

RenderPng = Callable[[bytes, int], bytes]  # (SVG bytes, size in pixels) → PNG bytes
Change = Literal["created", "replaced", "unchanged", "removed", "already gone"]


class DesktopError(AppError):
    """The menu entry or its icons could not be written or removed; ``message`` and ``hint`` say why."""

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class DesktopUnsupported(DesktopError):
    """This platform has no applications-menu integration in trayai yet: what it would take, instead."""


# ---------------------------------------------------------------------------------------- the command


def launch_command(
    *,
    argv0: str | None = None,
    scripts_dir: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
    python: str | None = None,
) -> list[str]:
    """The command that starts this trayai, as an absolute argv, for the menu and login entries.

    In order: the running ``trayai`` entry point (``sys.argv[0]``); the ``trayai`` script of this
    interpreter's environment (a venv's ``bin/``, when started with ``python -m trayai.cli``); the one
    on ``PATH``; else this interpreter with ``-m trayai.cli`` — always something that exists now.
    The parameters default to this process and are there for the tests.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    candidates: list[Path] = []
    if argv0 and _is_trayai_script(Path(argv0)):
        candidates.append(Path(argv0).absolute())  # absolute, symlinks kept (pipx's ~/.local/bin)
    scripts = sysconfig.get_path("scripts") if scripts_dir is None else scripts_dir
    if scripts:
        candidates += [Path(scripts) / name for name in _script_names()]
    found = which(APP_NAME)
    if found:
        candidates.append(Path(found).absolute())
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    return [python or sys.executable, "-m", "trayai.cli"]


def _script_names() -> tuple[str, ...]:
    return (f"{APP_NAME}.exe", APP_NAME) if sys.platform.startswith("win") else (APP_NAME,)


def _is_trayai_script(path: Path) -> bool:
    return path.stem == APP_NAME and path.suffix.lower() in ("", ".exe")


def exec_line(command: Sequence[str]) -> str:
    """``command`` as the value of an ``Exec=`` key (Desktop Entry spec, "The Exec key").

    ``%`` doubles (field codes); an argument with a reserved character is double-quoted with ``"``,
    `````, ``$`` and ``\\`` escaped; then the string-value escapes apply (``\\`` → ``\\\\``), which is
    why a backslash in a quoted argument ends up as four.
    """
    return " ".join(_escape_string(_quote_arg(part.replace("%", "%%"))) for part in command)


def _quote_arg(part: str) -> str:
    if part and not any(c in _RESERVED for c in part):
        return part
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in part)
    return f'"{escaped}"'


def _escape_string(value: str) -> str:
    """The escapes of a ``string`` value: backslash, newline, tab, carriage return."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def entry_head(command: Sequence[str]) -> list[str]:
    """The keys the menu entry and the autostart entry share: one name, one icon, one command."""
    return [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # 1.5 is unknown to desktop-file-validate 0.26 (Debian 12)
        f"Name={APP_NAME}",
        f"Comment={COMMENT}",
        f"Exec={exec_line(command)}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Utility;",
    ]


def menu_entry(command: Sequence[str]) -> str:
    """The applications-menu entry: the tray app, plus its commands as desktop actions.

    ``TryExec`` hides the entry when the program is gone (a deleted venv) instead of a dead item;
    ``StartupWMClass`` is the class Qt gives trayai's windows (its application name), so docks group
    them under this entry; no startup notification, since starting the tray opens no window.
    """
    lines = entry_head(command)
    lines += [
        "GenericName=AI Assistant",
        f"TryExec={_escape_string(command[0])}",
        f"StartupWMClass={APP_NAME}",
        "StartupNotify=false",
        "Keywords=AI;LLM;chat;assistant;llama;ollama;prompt;",
        "Actions=" + "".join(f"{action};" for action, _, _ in ACTIONS),
    ]
    for action, name, subcommand in ACTIONS:
        lines += [
            "",
            f"[Desktop Action {action}]",
            f"Name={name}",
            f"Exec={exec_line([*command, subcommand])}",
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- the places


def app_icon_source() -> Path:
    """trayai's SVG icon, from the installed package (wheel, pipx, editable alike)."""
    packaged = importlib.resources.files("trayai").joinpath("resources/icons/trayai.svg")
    if packaged.is_file():
        return Path(str(packaged))
    raise DesktopError(
        "trayai's icon (resources/icons/trayai.svg) is missing from this installation",
        "reinstall trayai (pip install --force-reinstall trayai)",
    )


@dataclass(frozen=True)
class DesktopPlaces:
    """Where the entry and icons go (``data_home`` = ``$XDG_DATA_HOME``) and where the manifest is."""

    data_home: Path
    manifest: Path

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> DesktopPlaces:
        """``$XDG_DATA_HOME`` (``~/.local/share`` when unset or relative, as the spec says)."""
        env = os.environ if environ is None else environ
        value = env.get("XDG_DATA_HOME", "")
        home = Path(value) if value and Path(value).is_absolute() else Path.home() / ".local" / "share"
        return cls(data_home=home, manifest=data_dir / MANIFEST_NAME)

    @property
    def entry(self) -> Path:
        return self.data_home / "applications" / ENTRY_NAME

    def icon(self, size: int | None) -> Path:
        """The hicolor icon file: scalable SVG for ``None``, else the ``size``×``size`` PNG."""
        theme = self.data_home / "icons" / "hicolor"
        if size is None:
            return theme / "scalable" / "apps" / f"{ICON_NAME}.svg"
        return theme / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"

    def planned(self) -> list[tuple[Path, str]]:
        """Every file install writes, with what it is, in the order it writes them."""
        icons = [(self.icon(None), "scalable icon")]
        icons += [(self.icon(size), f"icon {size}×{size}") for size in PNG_SIZES]
        return [*icons, (self.entry, "menu entry")]  # the entry last: its icon exists when it appears


def is_installed(places: DesktopPlaces) -> bool:
    """Whether the menu entry is there (whoever wrote it: install then overwrites it, as its own)."""
    return places.entry.is_file()


# ---------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FileChange:
    path: Path
    what: str  # "menu entry", "icon 48×48", "folder"…
    change: Change


class FileChangeDict(TypedDict):
    path: str
    what: str
    change: Change


class DesktopResultDict(TypedDict):
    """``trayai desktop install|uninstall --json``."""

    action: Literal["install", "uninstall"]
    files: list[FileChangeDict]
    notes: list[str]
    left_alone: str | None


@dataclass(frozen=True)
class DesktopResult:
    """What install or uninstall did, file by file, and which desktop caches it refreshed."""

    action: Literal["install", "uninstall"]
    files: tuple[FileChange, ...]
    notes: tuple[str, ...] = field(default=())
    left_alone: Path | None = None  # uninstall: a menu entry install did not write (not removed)

    def summary(self) -> str:
        """One sentence for the CLI's last line and the settings dialog."""
        if self.action == "install":
            return "trayai is in the applications menu (it may take a moment to appear)."
        if self.left_alone is not None:
            return (
                f"{self.left_alone} was not written by `trayai desktop install`, so it was left alone: "
                "remove it by hand if you wish."
            )
        if not any(f.change == "removed" for f in self.files):
            return "trayai was not in the applications menu: nothing to remove."
        return "trayai was removed from the applications menu."

    def as_json(self) -> DesktopResultDict:
        return {
            "action": self.action,
            "files": [{"path": str(f.path), "what": f.what, "change": f.change} for f in self.files],
            "notes": list(self.notes),
            "left_alone": None if self.left_alone is None else str(self.left_alone),
        }


# ---------------------------------------------------------------------------------------- acting


def check_platform(platform: str | None = None) -> None:
    """Raise :class:`DesktopUnsupported` on Windows and macOS, saying what it would do and instead."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        raise DesktopUnsupported(
            "Windows: adding trayai to the Start menu (a shortcut in "
            "%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs) is not supported yet",
            "run `trayai` from a terminal, then pin its taskbar icon; "
            "`trayai config set start_at_login true` starts it at login",
        )
    if platform == "darwin":
        raise DesktopUnsupported(
            "macOS: adding trayai to Launchpad and the Applications folder (an app bundle in "
            "~/Applications) is not supported yet",
            "run `trayai` from a terminal (keep it in the Dock while it runs); "
            "`trayai config set start_at_login true` starts it at login",
        )


def install(
    places: DesktopPlaces,
    render_png: RenderPng,
    *,
    platform: str | None = None,
    command: Sequence[str] | None = None,
    icon_source: Path | None = None,
) -> DesktopResult:
    """Write the menu entry and its icons (again: each file is overwritten), record them, refresh caches.

    A failure (read-only folder, full disk) raises :class:`DesktopError`; whatever was written before
    it is still recorded, so ``uninstall`` cleans it up.
    """
    check_platform(platform)
    command = list(command) if command is not None else launch_command()
    source = icon_source or app_icon_source()
    try:
        svg = source.read_bytes()
    except OSError as exc:
        raise _os_error(exc, "read", source) from exc
    previous = _read_manifest(places.manifest)
    sizes = {places.icon(size): size for size in PNG_SIZES}

    def data_for(path: Path) -> bytes:
        if path == places.entry:
            return menu_entry(command).encode("utf-8")
        return render_png(svg, sizes[path]) if path in sizes else svg

    written: list[FileChange] = []
    created_dirs: list[Path] = []
    try:
        for path, what in places.planned():
            created_dirs += _make_dirs(path.parent)
            written.append(FileChange(path, what, _write_file(path, data_for(path))))
    finally:
        files = [*previous.files, *(f.path for f in written)]
        dirs = [*previous.dirs, *created_dirs]
        if files or dirs:
            _write_manifest(places.manifest, _Manifest(files, dirs))
    notes = _refresh_caches(places)
    return DesktopResult("install", tuple(written), tuple(notes))


def uninstall(places: DesktopPlaces, *, platform: str | None = None) -> DesktopResult:
    """Remove exactly the files install recorded, then the folders it created if they are empty."""
    check_platform(platform)
    manifest = _read_manifest(places.manifest)
    changes: list[FileChange] = []
    failed: list[tuple[Path, OSError]] = []
    for path in manifest.files:
        if not _ours(path):
            continue  # a hand-edited manifest never makes us delete someone else's file
        try:
            path.unlink()
        except FileNotFoundError:
            changes.append(FileChange(path, _what(path), "already gone"))
        except OSError as exc:
            failed.append((path, exc))
        else:
            changes.append(FileChange(path, _what(path), "removed"))
    if failed:  # keep the record of what is left, so a second uninstall finishes the job
        _write_manifest(places.manifest, _Manifest([p for p, _ in failed], manifest.dirs))
        first, cause = failed[0]
        error = _os_error(cause, "remove", first)
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise DesktopError(error.message + more, error.hint) from cause
    notes = _refresh_caches(places) if changes else []
    # Still there: not in the record (written by hand, or recorded under another XDG_DATA_HOME).
    left_alone = places.entry if places.entry.exists() else None
    for directory in sorted(manifest.dirs, key=lambda d: len(d.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty (someone else's files, a cache) or gone
            directory.rmdir()
            changes.append(FileChange(directory, "folder", "removed"))
    with contextlib.suppress(FileNotFoundError):
        places.manifest.unlink()
    return DesktopResult("uninstall", tuple(changes), tuple(notes), left_alone)


def _what(path: Path) -> str:
    if path.suffix == ".desktop":
        return "menu entry"
    if path.suffix == ".svg":
        return "scalable icon"
    size = path.parent.parent.name.split("x", 1)[0]
    return f"icon {size}×{size}" if size.isdigit() else "icon"


def _ours(path: Path) -> bool:
    """A file install writes: our name in an ``applications`` or ``…/hicolor/*/apps`` folder."""
    if path.name == ENTRY_NAME:
        return path.parent.name == "applications"
    return (
        path.name in (f"{ICON_NAME}.svg", f"{ICON_NAME}.png")
        and path.parent.name == "apps"
        and path.parent.parent.parent.name == "hicolor"
    )


def _make_dirs(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; the ones created, outermost first."""
    missing: list[Path] = []
    probe = directory
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, "create the folder", directory) from exc
    return list(reversed(missing))


def _write_file(path: Path, data: bytes) -> Change:
    """Replace ``path`` with ``data`` atomically (a temporary file renamed over it), mode 0644."""
    existed = path.exists()
    if existed and path.is_file():
        with contextlib.suppress(OSError):
            if path.read_bytes() == data:
                path.chmod(FILE_MODE)
                return "unchanged"
    try:
        atomic_write_bytes(path, data, mode=FILE_MODE)
    except OSError as exc:
        raise _os_error(exc, "write", path) from exc
    return "replaced" if existed else "created"


def _os_error(
    exc: OSError, doing: str, path: Path, elsewhere: str = "point XDG_DATA_HOME at a folder you can write"
) -> DesktopError:
    """The failure in one line, and a hint naming the folder to fix (the nearest that exists)."""
    reason = exc.strerror or str(exc)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = f"free some space on the disk holding {folder} (or raise your quota), then run it again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"make {folder} writable (permissions, or remount the disk read-write), or {elsewhere}"
    else:
        hint = f"check {folder}, then run it again"
    return DesktopError(f"could not {doing} {path}: {reason}", hint)


# ---------------------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class _Manifest:
    files: list[Path] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)


def _read_manifest(path: Path) -> _Manifest:
    """The record of past installs; unreadable or damaged counts as none (nothing is removed then)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _Manifest()
    if not isinstance(data, dict):
        return _Manifest()
    return _Manifest(_paths(data.get("files")), _paths(data.get("dirs")))


def _paths(value: object) -> list[Path]:
    if not isinstance(value, list):
        return []
    return [Path(item) for item in value if isinstance(item, str) and Path(item).is_absolute()]


def _write_manifest(path: Path, manifest: _Manifest) -> None:
    """Saved user-only (0600) in the data folder, like trayai's other files."""
    data = {
        "version": MANIFEST_VERSION,
        "files": [str(p) for p in _unique(manifest.files)],
        "dirs": [str(p) for p in _unique(manifest.dirs)],
    }
    try:
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    except OSError as exc:
        raise _os_error(
            exc, "record what was installed in", path, "set TRAYAI_DATA_DIR to a folder you can write"
        ) from exc


def _unique(paths: Iterable[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


# ---------------------------------------------------------------------------------------- caches


def _refresh_caches(places: DesktopPlaces) -> list[str]:
    """Refresh the caches that exist in these folders: the menu database and the icon cache.

    Only refreshed, never created: without one, the desktop reads the folder itself (menus watch
    ``applications/``; GTK scans a theme without ``icon-theme.cache``), and a cache we created would
    be a file left behind by uninstall. Both tools are optional: absent, nothing is said.
    """
    notes: list[str] = []
    applications = places.entry.parent
    if (applications / "mimeinfo.cache").is_file():
        notes += _run_tool("update-desktop-database", [str(applications)], "the menu database")
    theme = places.icon(None).parents[2]
    if (theme / "icon-theme.cache").is_file():
        notes += _run_tool("gtk-update-icon-cache", ["-f", "-t", str(theme)], "the icon cache")
    return notes


def _run_tool(tool: str, args: list[str], what: str) -> list[str]:
    program = shutil.which(tool)
    if program is None:
        return []
    try:
        done = subprocess.run(
            [program, *args], capture_output=True, text=True, timeout=CACHE_TOOL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"could not refresh {what} ({tool}: {exc})"]
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return [f"could not refresh {what} ({tool} exit {done.returncode}: {detail[-1] if detail else ''})"]
    return [f"refreshed {what} ({tool})"]


__all__ = [
    "ACTIONS",
    "ICON_NAME",
    "DesktopError",
    "DesktopPlaces",
    "DesktopResult",
    "DesktopUnsupported",
    "FileChange",
    "app_icon_source",
    "check_platform",
    "entry_head",
    "exec_line",
    "install",
    "is_installed",
    "launch_command",
    "menu_entry",
    "uninstall",
]
