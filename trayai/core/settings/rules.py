"""The settings dialog's rules (what makes profiles or settings invalid, said as a sentence), Qt-free
so each is unit-tested (docs/architecture.md, "The settings dialog"). Each page's ``problem()`` runs
the ones about it, in page order, and the dialog then ``validate_settings`` (ui/settings/dialog.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.settings.config import Action, Preset, Profile, Settings
from trayai.core.settings.validate import item_clash, item_problem


@dataclass(eq=False)
class EditedProfile:
    """A profile in the dialog under a stable id: names change while typing, the id does not."""

    uid: int
    profile: Profile


def profile_problem(profile: Profile, *, url_locked: bool) -> str | None:
    """A name, a usable base URL (normalised in place unless an override sets it) and a model."""
    if not profile.name.strip():
        return "Every endpoint needs a name."
    if not url_locked:
        try:
            profile.base_url = normalize_base_url(profile.base_url).url
        except InvalidURLError as exc:
            return f"“{profile.name}”: {exc}"
    if not profile.model.strip():
        return f"“{profile.name}” needs a model name (pick one from the list or type it)."
    return None


def hotkey_problem(settings: Settings) -> str | None:
    """An empty hotkey means none; another must parse (it is stored in its canonical spelling)."""
    if not settings.hotkey.strip():
        return None
    # lazy: hotkeys stay off the tray's start-up path until a rule needs them
    from trayai.core.hotkeys import HotkeyError, normalize_hotkey

    try:
        settings.hotkey = normalize_hotkey(settings.hotkey)
    except HotkeyError as exc:
        return f"Hotkey: {exc}"
    return None


def list_problem(items: Sequence[Preset | Action]) -> tuple[int, str] | None:
    """The row of the first unusable preset or action and why (a sentence), or None."""
    seen: list[Preset | Action] = []
    for row, item in enumerate(items):
        problem = item_problem(item) or item_clash(item, seen)
        if problem:
            return row, problem if problem.endswith(".") else problem + "."
        seen.append(item)
    return None


def free_key(actions: Sequence[Action]) -> int | None:
    """The lowest number key no action uses (for a new one), or None when 1–9 are all taken."""
    taken = {a.key for a in actions}
    return next((key for key in range(1, 10) if key not in taken), None)


def duplicate_name(profiles: Sequence[Profile]) -> Profile | None:
    """The first profile whose name another one has too."""
    names = [p.name for p in profiles]
    return next((p for p in profiles if names.count(p.name) > 1), None)


def follow_active(
    settings: Settings, edited: Sequence[EditedProfile], original_names: Mapping[int, str]
) -> None:
    """Keep ``active_profile`` on the same profile through a rename; the first one if it is gone."""
    active_uid = next((uid for uid, name in original_names.items() if name == settings.active_profile), None)
    active = next((e.profile for e in edited if e.uid == active_uid), None)
    if active is not None:
        settings.active_profile = active.name
    if not settings.has_profile(settings.active_profile):
        settings.active_profile = settings.profiles[0].name


def follow_renames(edited: Sequence[EditedProfile], original_names: Mapping[int, str]) -> None:
    """A renamed profile stays the fallback it was: other profiles' ``fallback`` lists follow."""
    renamed = {
        original_names[e.uid]: e.profile.name
        for e in edited
        if e.uid in original_names and original_names[e.uid] != e.profile.name
    }
    if not renamed:
        return
    for entry in edited:
        names = entry.profile.fallback_names()
        if any(n in renamed for n in names):
            entry.profile.fallback = ", ".join(renamed.get(n, n) for n in names)


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base 2``, ``base 3``… — the first that no profile has."""
    names = set(taken)
    if base not in names:
        return base
    n = 2
    while f"{base} {n}" in names:
        n += 1
    return f"{base} {n}"


__all__ = [
    "EditedProfile",
    "duplicate_name",
    "follow_active",
    "follow_renames",
    "free_key",
    "hotkey_problem",
    "list_problem",
    "profile_problem",
    "unique_name",
]
