"""An error as a window shows it: plain words and the buttons that can fix it.

One catalogue (``ERROR_CATALOG`` in ``core/errors.py``), two renderings: the terminal prints the entry's
``fix`` (with commands); a window shows its ``gui`` words and turns its ``remedies`` into concrete
buttons here — "Use qwen3", "Switch to ollama", "Start the built-in server" — offered only where they
can help (no Retry for a wrong model, no Start for a built-in server that is not installed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from trayai.core.error_catalog import ERROR_CATALOG, Remedy
from trayai.core.errors import TrayaiError

MAX_MODEL_BUTTONS = 3
MAX_SERVER_BUTTONS = 2


@dataclass(frozen=True)
class Situation:
    """What the window knows when the error arrives (all optional: fewer facts, fewer buttons)."""

    model: str | None = None  # the model asked for
    models: Sequence[str] = ()  # what the server lists
    ready_servers: Sequence[str] = ()  # other profiles whose server is ready now
    builtin_can_start: bool = False  # installed, and not already running


@dataclass(frozen=True)
class RemedyAction:
    """One button: what it does, its label and tooltip, and what it acts on (a model, a profile)."""

    remedy: Remedy
    label: str
    tooltip: str
    target: str | None = None


@dataclass(frozen=True)
class GuiHelp:
    """An error for a window: the headline, the plain-words advice, the buttons in order."""

    title: str
    text: str
    actions: list[RemedyAction] = field(default_factory=list)


def plain(text: str) -> str:
    """Text for a window: Markdown code marks dropped (a window is not a terminal)."""
    return text.replace("`", "")


def gui_help(error: TrayaiError, situation: Situation | None = None) -> GuiHelp:
    """The catalogue's window rendering of ``error``, its buttons made concrete for ``situation``."""
    facts = situation or Situation()
    entry = ERROR_CATALOG[error.code]
    actions: list[RemedyAction] = []
    for remedy in entry.remedies:
        actions += _actions(remedy, error, facts)
    return GuiHelp(plain(error.message), entry.gui, actions)


def _actions(remedy: Remedy, error: TrayaiError, facts: Situation) -> list[RemedyAction]:
    if remedy is Remedy.RETRY:
        return [RemedyAction(remedy, "Retry", "Send the same request again")] if error.retryable else []
    if remedy is Remedy.PICK_MODEL:
        names = [n for n in (*error.suggestions, *facts.models) if n != facts.model]
        unique = list(dict.fromkeys(names))[:MAX_MODEL_BUTTONS]
        return [
            RemedyAction(remedy, f"Use {name}", f"Ask {name} instead (this conversation keeps it)", name)
            for name in unique
        ]
    if remedy is Remedy.LOAD_MODEL:
        if not facts.model:
            return []
        return [RemedyAction(remedy, f"Load {facts.model}", "Load it into the server's memory", facts.model)]
    if remedy is Remedy.SWITCH_SERVER:
        return [
            RemedyAction(remedy, f"Switch to {name}", f"Use the profile {name!r}: its server is ready", name)
            for name in list(facts.ready_servers)[:MAX_SERVER_BUTTONS]
        ]
    if remedy is Remedy.START_BUILTIN:
        if not facts.builtin_can_start:
            return []
        return [RemedyAction(remedy, "Start the built-in server", "Run SmolLM2 on this computer, no setup")]
    if remedy is Remedy.OPEN_SETTINGS:
        return [RemedyAction(remedy, "Open Settings", "Change the server's address, key or limits")]
    return [RemedyAction(remedy, "New chat", "Start a fresh conversation (this one is kept)")]


__all__ = ["GuiHelp", "RemedyAction", "Situation", "gui_help", "plain"]
