"""Three-way merge of settings, so a save never drops a change made elsewhere.

A writer that edited a copy for a while (the settings dialog) merges, field by field, what it loaded
(*base*), what it wants (*mine*) and what is in the file now (*theirs*, e.g. `trayai profile add`
ran meanwhile): a field only one side changed takes that side's value; profiles, presets, actions and
per-model settings (each by its identity) added on either side are kept, removed on one side and
untouched on the other are removed. A field both sides changed differently is a :class:`Conflict`;
the caller decides which side wins (the dialog asks). Writers of one field at a time use
:meth:`ConfigStore.update` instead. See docs/architecture.md, "Saving without losing a change".
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from trayai.core.settings.config import LIST_FIELDS, Action, ModelSettings, Preset, Profile, Settings
from trayai.core.settings.store import ConfigStore

Item = TypeVar("Item", Profile, Preset, Action, ModelSettings)


class Side(enum.Enum):
    """Whose value a conflicting field takes."""

    MINE = "mine"  # the writer's own edit (the dialog's copy)
    THEIRS = "theirs"  # what is in the file now (another process's change)


class _Absent(enum.Enum):
    """No base value: the item was added on both sides, so any difference is a conflict."""

    ABSENT = "absent"


_ABSENT = _Absent.ABSENT
REMOVED = "removed"  # how a removed profile/preset/action is shown in a conflict
CHANGED = "changed"


@dataclass(frozen=True)
class Conflict:
    """One setting both sides changed to different values (or one side removed what the other changed).

    ``path`` names it for a program (``profiles[Local].generation.temperature``), ``label`` for a person;
    ``mine``/``theirs`` are the two values as shown (JSON, or ``removed``/``changed`` for whole items).
    """

    path: str
    label: str
    mine: str
    theirs: str


@dataclass(frozen=True)
class MergeResult:
    """The merged settings (each conflict settled for the side asked for) and the conflicts found.

    ``saved``: :func:`save_merged` wrote ``settings`` to the file.
    """

    settings: Settings
    conflicts: tuple[Conflict, ...]
    saved: bool = False


def merge_settings(
    base: Settings,
    mine: Settings,
    theirs: Settings,
    *,
    origins: Mapping[str, str | None] | None = None,
    prefer: Side = Side.MINE,
) -> MergeResult:
    """Merge ``mine`` (edited from ``base``) with ``theirs`` (the file now), field by field.

    ``origins`` maps each of mine's profile names to the base profile it was edited from (None: a new
    one), so a profile renamed in the dialog stays the same profile; without it a profile is the base
    profile of the same name. Conflicting fields take ``prefer``'s value.
    """
    return _Merger(base, mine, theirs, origins, prefer).run()


def merge_with_file(
    store: ConfigStore,
    base: Settings,
    mine: Settings,
    *,
    origins: Mapping[str, str | None] | None = None,
    prefer: Side = Side.MINE,
) -> MergeResult:
    """:func:`merge_settings` against the file as it is now (nothing written).

    A missing or unreadable file holds no one else's change: ``mine`` is the result.
    """
    theirs = store.read_current()
    return merge_settings(base, mine, theirs if theirs is not None else base, origins=origins, prefer=prefer)


def save_merged(
    store: ConfigStore,
    base: Settings,
    mine: Settings,
    *,
    origins: Mapping[str, str | None] | None = None,
    prefer: Side = Side.MINE,
    answered: Collection[Conflict] = (),
) -> MergeResult:
    """Under the settings lock: merge with the file and save, unless a conflict is not in ``answered``.

    Conflicts the caller has not settled yet (the file changed again while the user was asked) come
    back with ``saved`` False and nothing written; raises ConfigError when the merge is not valid.
    """
    with store.locked():
        result = merge_with_file(store, base, mine, origins=origins, prefer=prefer)
        if any(conflict not in answered for conflict in result.conflicts):
            return result
        store.save(result.settings)
    return dataclasses.replace(result, saved=True)


def describe(conflicts: Sequence[Conflict]) -> str:
    """The conflicts as lines a person reads: what, mine, theirs."""
    return "\n".join(f"• {c.label}: yours {c.mine}, the other {c.theirs}" for c in conflicts)


# --------------------------------------------------------------------------- internals


def _by_name(items: Sequence[Item]) -> dict[str, Item]:
    """Presets, actions or model settings by their identity, the name."""
    return {item.name: item for item in items}


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Merger:
    """One merge: the three inputs, the profile identities and the conflicts met on the way."""

    def __init__(
        self,
        base: Settings,
        mine: Settings,
        theirs: Settings,
        origins: Mapping[str, str | None] | None,
        prefer: Side,
    ) -> None:
        self.base, self.mine, self.theirs, self.prefer = base, mine, theirs, prefer
        self.conflicts: list[Conflict] = []
        base_names = {p.name for p in base.profiles}
        # A profile's identity is the name it has in the base (theirs: its name, the file's own key).
        self.mine_key: dict[str, str] = {}
        for profile in mine.profiles:
            origin = origins.get(profile.name, None) if origins is not None else profile.name
            if origin is not None and origin in base_names:
                self.mine_key[profile.name] = origin
            else:  # new here: never the identity of a base profile it may share a name with
                fresh = profile.name not in base_names
                self.mine_key[profile.name] = profile.name if fresh else "\0" + profile.name

    def run(self) -> MergeResult:
        merged = self._object(self.base, self.mine, self.theirs, "", "", skip=("active_profile",))
        keyed_profiles = self._items(
            "profiles",
            "Endpoint",
            {p.name: p for p in self.base.profiles},
            {self.mine_key[p.name]: p for p in self.mine.profiles},
            {p.name: p for p in self.theirs.profiles},
            skip=("fallback",),
        )
        merged.profiles = [p for _, p in keyed_profiles]
        self._references(merged, dict(keyed_profiles))
        base, mine, theirs = self.base, self.mine, self.theirs
        presets = self._items(
            "presets", "Preset", _by_name(base.presets), _by_name(mine.presets), _by_name(theirs.presets)
        )
        merged.presets = [p for _, p in presets]
        actions = self._items(
            "actions", "Action", _by_name(base.actions), _by_name(mine.actions), _by_name(theirs.actions)
        )
        merged.actions = [a for _, a in actions]
        # Each model's settings by its name, value by value: a context set in the library window and
        # a temperature set by `trayai library set` meanwhile both stay.
        models = self._items(
            "model_settings",
            "Model",
            _by_name(base.model_settings),
            _by_name(mine.model_settings),
            _by_name(theirs.model_settings),
        )
        merged.model_settings = [m for _, m in models]
        return MergeResult(merged, tuple(self.conflicts))

    def _value(
        self, base: Any, mine: Any, theirs: Any, path: str, label: str, shown: tuple[Any, Any] | None = None
    ) -> Any:
        """The three-way rule for one value (``shown``: how mine and theirs read in a conflict)."""
        if mine == theirs:
            return mine
        if base is not _ABSENT and mine == base:
            return theirs
        if base is not _ABSENT and theirs == base:
            return mine
        said = shown if shown is not None else (mine, theirs)
        self.conflicts.append(Conflict(path, label, _shown(said[0]), _shown(said[1])))
        return mine if self.prefer is Side.MINE else theirs

    def _object(
        self, base: Any, mine: Any, theirs: Any, path: str, label: str, skip: Sequence[str] = ()
    ) -> Any:
        """A settings dataclass merged field by field (nested ones too; lists are done apart)."""
        merged = copy.deepcopy(mine)
        for f in dataclasses.fields(mine):
            if f.name in LIST_FIELDS or f.name in skip:
                continue
            old = _ABSENT if base is _ABSENT else getattr(base, f.name)
            ours, other = getattr(mine, f.name), getattr(theirs, f.name)
            where, said = f"{path}{f.name}", f"{label}{f.name}"
            if dataclasses.is_dataclass(ours):
                value = self._object(old, ours, other, where + ".", said + " ▸ ")
            else:
                value = self._value(old, ours, other, where, said)
            setattr(merged, f.name, copy.deepcopy(value))
        return merged

    def _items(
        self,
        field: str,
        noun: str,
        base: Mapping[str, Item],
        mine: Mapping[str, Item],
        theirs: Mapping[str, Item],
        skip: Sequence[str] = (),
    ) -> list[tuple[str, Item]]:
        """Profiles, presets or actions by identity: mine's order, then what only theirs added."""
        merged: list[tuple[str, Item]] = []
        for key in [*mine, *(k for k in theirs if k not in mine)]:
            old, ours, other = base.get(key), mine.get(key), theirs.get(key)
            name = (ours or other or old).name  # type: ignore[union-attr]  # one of them is there
            path, label = f"{field}[{name}]", f"{noun} “{name}”"
            if ours is not None and other is not None:
                start = _ABSENT if old is None else old
                merged.append((key, self._object(start, ours, other, path + ".", label + " ▸ ", skip)))
            elif ours is not None:  # not in the file now
                kept = self._one_sided(old, ours, path, label, mine_removed=False)
                merged += [(key, copy.deepcopy(ours))] if kept else []
            elif other is not None:  # not in mine
                kept = self._one_sided(old, other, path, label, mine_removed=True)
                merged += [(key, copy.deepcopy(other))] if kept else []
        return merged

    def _one_sided(
        self, old: Item | None, present: Item, path: str, label: str, *, mine_removed: bool
    ) -> bool:
        """Keep an item one side has and the other has not? Added: yes; removed and untouched: no."""
        if old is None:
            return True
        if present == old:
            return False
        mine, theirs = (REMOVED, CHANGED) if mine_removed else (CHANGED, REMOVED)
        self.conflicts.append(Conflict(path, label, mine, theirs))
        return (self.prefer is Side.MINE) != mine_removed

    def _references(self, merged: Settings, profiles: Mapping[str, Profile]) -> None:
        """Fallbacks and the active profile name profiles: merged by identity, renames followed."""
        names = {key: profile.name for key, profile in profiles.items()}
        for key, profile in profiles.items():
            old, ours, other = (self._profile_keyed(s, key) for s in (self.base, self.mine, self.theirs))
            if ours is None or other is None:  # on one side only: that side's list
                chain = self._chain(self.mine if other is None else self.theirs, ours or other)
            else:
                chain = self._value(
                    _ABSENT if old is None else self._chain(self.base, old),
                    self._chain(self.mine, ours),
                    self._chain(self.theirs, other),
                    f"profiles[{profile.name}].fallback",
                    f"Endpoint “{profile.name}” ▸ fallback",
                    shown=(ours.fallback, other.fallback),
                )
            profile.fallback = ", ".join(names[k] for k in chain if k in names and k != key)
        active = self._value(
            self.base.active_profile,
            self._key(self.mine, self.mine.active_profile),
            self.theirs.active_profile,
            "active_profile",
            "active_profile",
            shown=(self.mine.active_profile, self.theirs.active_profile),
        )
        merged.active_profile = names.get(active, merged.profiles[0].name if merged.profiles else "")

    def _key(self, settings: Settings, name: str) -> str:
        """The identity of the profile called ``name`` on that side."""
        return self.mine_key.get(name, name) if settings is self.mine else name

    def _chain(self, settings: Settings, profile: Profile | None) -> tuple[str, ...]:
        """A profile's fallbacks as identities."""
        return () if profile is None else tuple(self._key(settings, n) for n in profile.fallback_names())

    def _profile_keyed(self, settings: Settings, key: str) -> Profile | None:
        """The profile with identity ``key`` on one side, or None."""
        return next((p for p in settings.profiles if self._key(settings, p.name) == key), None)


__all__ = [
    "CHANGED",
    "REMOVED",
    "Conflict",
    "MergeResult",
    "Side",
    "describe",
    "merge_settings",
    "merge_with_file",
    "save_merged",
]
