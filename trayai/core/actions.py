"""Quick prompt actions: a template's placeholders checked and filled, the action a key or a name
runs, and the instance command that runs one (docs/architecture.md, "Presets and actions").

Qt-free: the quick prompt, the tray's Actions menu, ``trayai prompt --action`` and the settings
dialog all go through these rules, and each is unit-tested without a display.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from trayai.core.errors import AppError, TemplateError
from trayai.core.settings.config import MAX_NAME, Action
from trayai.core.suggest import did_you_mean
from trayai.core.templates import PLACEHOLDERS, Placeholder, fill, placeholders, template_problem
from trayai.core.textsafe import escape_line

ACTION_COMMAND = "prompt:action:"  # + the action's name: what `trayai prompt --action NAME` forwards


class ActionTextMissing(AppError):
    """An action needs text that is not there: nothing selected or copied, or nothing typed.

    ``needs`` names the placeholder that found nothing, so a front end can point at the right thing.
    """

    def __init__(self, message: str, hint: str, needs: Placeholder) -> None:
        super().__init__(message, hint)
        self.needs = needs


@dataclass(frozen=True)
class RenderedAction:
    """The prompt an action sends, and where ``{selection}`` came from (None: it was not used)."""

    text: str
    selection_from: Literal["selection", "clipboard"] | None


def render_action(
    action: Action, *, selection: str = "", clipboard: str = "", typed: str = ""
) -> RenderedAction:
    """The prompt ``action`` sends with this text, or :class:`ActionTextMissing` saying what is missing.

    ``{selection}`` is the selected text or, when nothing is selected and the template does not use
    ``{clipboard}`` too, the clipboard's: on desktops without a selection (Windows, macOS, Wayland
    without primary selection) "copy, then press 1" works the same.
    """
    problem = template_problem(action.template)
    if problem:
        raise TemplateError(f"Action {action.name!r}: {problem}")
    used = placeholders(action.template)
    values: dict[str, str] = {"selection": selection, "clipboard": clipboard, "input": typed}
    selection_from: Literal["selection", "clipboard"] | None = None
    key = f"press {action.key} in the empty box, or Alt+{action.key}"
    if "selection" in used:
        if selection.strip():
            selection_from = "selection"
        elif "clipboard" not in used and clipboard.strip():
            selection_from = "clipboard"
            values["selection"] = clipboard
        elif "clipboard" in used:
            raise ActionTextMissing(
                f"“{action.name}” needs selected text, and nothing is selected.",
                f"Select the text, then {key}.",
                "selection",
            )
        else:
            raise ActionTextMissing(
                f"“{action.name}” needs text: nothing is selected or copied.",
                f"Select the text (or copy it to the clipboard), then {key}.",
                "selection",
            )
    if "clipboard" in used and not clipboard.strip():
        raise ActionTextMissing(
            f"“{action.name}” needs text on the clipboard, and the clipboard is empty.",
            f"Copy the text, then {key}.",
            "clipboard",
        )
    if "input" in used and not typed.strip():
        raise ActionTextMissing(
            f"“{action.name}” needs what you type, and the box is empty.",
            f"Type it in the quick prompt, then press Alt+{action.key}.",
            "input",
        )
    return RenderedAction(fill(action.template, values), selection_from)


PREVIEW_CHARS = 40


def action_preview(action: Action | None, *, selection: str = "", clipboard: str = "") -> str:
    """What an action will work on, for the quick prompt's chip: "Explain · ‘Photosynthesis conv…’",
    "Explain · the clipboard · ‘…’", or what it still needs. ``None``: any action (the name left out)."""
    used: Collection[str] = placeholders(action.template) if action is not None else ("selection",)
    name = f"{action.name} · " if action is not None else ""
    if "selection" in used:
        if selection.strip():
            return f"{name}{_quoted(selection)}"
        if "clipboard" not in used and clipboard.strip():
            return f"{name}the clipboard · {_quoted(clipboard)}"
        return f"{name}select or copy text first"
    if "clipboard" in used:
        return (
            f"{name}the clipboard · {_quoted(clipboard)}" if clipboard.strip() else f"{name}copy text first"
        )
    return f"{name}what you type"


def _quoted(text: str) -> str:
    flat = " ".join(text.split())
    return f"‘{flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + '…'}’"


# --------------------------------------------------------------------------- finding one


def find_action(actions: Iterable[Action], name: str) -> Action | None:
    return next((a for a in actions if a.name == name), None)


def action_on_key(actions: Iterable[Action], key: int) -> Action | None:
    return next((a for a in actions if a.key == key), None)


def unknown_action(name: str, actions: Sequence[Action]) -> str:
    """The sentence for a name no action has: the closest ones (a typo, usually), then all there are."""
    if not actions:
        return f"No action named {escape_line(name)!r}: there are no actions (add them in Settings)."
    names = ", ".join(repr(a.name) for a in actions)
    if near := did_you_mean(name, (a.name for a in actions)):
        return f"No action named {escape_line(name)!r}{near} (actions: {names})"
    return f"No action named {escape_line(name)!r} — actions: {names}"


def usable_name(name: str) -> bool:
    """A name an action can have (and so one an instance command may carry): see config.item_problem."""
    return 0 < len(name) <= MAX_NAME and name == name.strip() and escape_line(name) == name


# --------------------------------------------------------------------------- instance commands


def action_command(name: str) -> str:
    """The command a second ``trayai`` forwards to the running one to run action ``name``."""
    return ACTION_COMMAND + name


def action_from_command(command: str) -> str | None:
    """The action name an instance command carries, or None when it is not a well-formed one.

    The command comes from another process over the instance socket: only a usable name (bounded,
    one line, no controls) gets through; whether an action has it is the app's to say.
    """
    if not command.startswith(ACTION_COMMAND):
        return None
    name = command[len(ACTION_COMMAND) :]
    return name if usable_name(name) else None


__all__ = [
    "ACTION_COMMAND",
    "PLACEHOLDERS",
    "ActionTextMissing",
    "Placeholder",
    "RenderedAction",
    "TemplateError",
    "action_command",
    "action_from_command",
    "action_on_key",
    "action_preview",
    "fill",
    "find_action",
    "placeholders",
    "render_action",
    "template_problem",
    "unknown_action",
    "usable_name",
]
