"""The on-demand server's view of per-model settings: read from the settings file again whenever it
changes (the library window or ``trayai library set`` may save while the server runs, in another
process), and turned into each load's :class:`~trayai.core.library.model_settings.LoadPlan`.

A load reads the file as it is then, so a changed context or template applies on the model's next load;
default sampling is read for every request, so it applies at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trayai.core.embedded import LocalModel
from trayai.core.library.model_settings import LoadPlan, Machine, ModelFacts, probe_machine, resolve
from trayai.core.settings.config import ModelSettings, Settings
from trayai.core.settings.migrations import migrate
from trayai.core.settings.store import ConfigStore, settings_from_dict

FileStamp = tuple[int, int, int]  # inode, size, mtime in ns: a save (atomic replace) changes it


class LiveModelSettings:
    """Per-model settings as the settings file holds them now (re-read when its stamp changes)."""

    def __init__(self, store: ConfigStore, *, initial: Settings | None = None) -> None:
        self.store = store
        self._stamp: FileStamp | None = self._read_stamp()
        self._entries: dict[str, ModelSettings] = {}
        if initial is not None:
            self._entries = {entry.name: entry for entry in initial.model_settings}
        else:
            self._reload()

    def entry(self, name: str) -> ModelSettings:
        """``name``'s settings now (an all-auto record when it has none)."""
        stamp = self._read_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            self._reload()
        return self._entries.get(name) or ModelSettings(name)

    def _read_stamp(self) -> FileStamp | None:
        try:
            stat = self.store.path.stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def _reload(self) -> None:
        """The file's entries as loading keeps them (a bad value reset, a bad entry dropped), without
        setting the file aside as a load would: that is for the app and the CLI to do and say."""
        if self._stamp is None:  # no file: every model auto
            self._entries = {}
            return
        try:
            raw = json.loads(self.store.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                return
            current = settings_from_dict(migrate(raw, []), [])
        except (OSError, UnicodeDecodeError, ValueError):
            return  # unreadable now: keep what was read last
        self._entries = {entry.name: entry for entry in current.model_settings}


@dataclass(frozen=True)
class _Known:
    """A model file's facts, kept while the file is unchanged (its header is read once)."""

    stamp: tuple[int, int]
    facts: ModelFacts


class ModelPlanner:
    """Each load's plan: the model's settings now, auto values chosen for the machine now."""

    def __init__(
        self,
        entries: Callable[[str], ModelSettings],
        machine: Callable[[], Machine] = probe_machine,
    ) -> None:
        self.entries = entries
        self.machine = machine
        self._facts: dict[Path, _Known] = {}

    def plan(self, model: LocalModel) -> LoadPlan:
        """Blocking (reads the GGUF header the first time): what ``model``'s child starts with."""
        return resolve(self.entries(model.name), self.facts(model.path), self.machine()).plan()

    def facts(self, path: Path) -> ModelFacts:
        stat = path.stat()
        stamp = (stat.st_size, stat.st_mtime_ns)
        known = self._facts.get(path)
        if known is None or known.stamp != stamp:
            known = _Known(stamp, ModelFacts.of_file(path))
            self._facts[path] = known
        return known.facts
