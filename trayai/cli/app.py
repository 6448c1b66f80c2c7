"""The GUI commands: no command (start the tray app), ``chat``, ``prompt``, ``settings``, ``quit``.

No ``Context``: the app loads its own configuration; a running one is reached over the instance socket.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from trayai.cli.context import EXIT_FAIL
from trayai.cli.parents import Parents, Subparsers


def register(sub: Subparsers, parents: Parents) -> None:
    for name, text in (
        ("chat", "open the chat window of the running trayai (starting it if needed)"),
        ("prompt", "open the quick prompt (bind this command to a key in your desktop's settings)"),
        ("settings", "open the settings of the running trayai"),
        ("quit", "quit the running trayai (and the built-in server it started)"),
    ):
        gui = sub.add_parser(name, help=text)
        gui.add_argument("--debug", action="store_true", help="verbose logging on stderr")
        if name == "prompt":
            gui.add_argument(
                "--action",
                metavar="NAME",
                help="run this quick prompt action on the selection (else the clipboard) and show the "
                "answer — e.g. bound to a key: trayai prompt --action Explain",
            )
        gui.set_defaults(gui_command=name)


def is_gui(args: argparse.Namespace) -> bool:
    return args.command is None or bool(getattr(args, "gui_command", None))


def run_gui(args: argparse.Namespace, stderr: TextIO) -> int:
    command = getattr(args, "gui_command", None) or "show"
    action = getattr(args, "action", None)
    if command == "prompt" and action is not None:
        checked = _action_command(action, stderr)
        if checked is None:
            return EXIT_FAIL
        command = checked
    from trayai.ui.app import run_app  # PySide6 is loaded only for the GUI

    return run_app(command, debug=getattr(args, "debug", False))


def _action_command(name: str, stderr: TextIO) -> str | None:
    """The instance command for action ``name``, or None after saying there is no such action.

    Checked here against the configuration, so a key binding with a typo fails in the terminal (exit 1,
    the names listed) instead of starting or poking the app for nothing.
    """
    from trayai.core.actions import action_command, find_action, unknown_action
    from trayai.core.config import ConfigStore
    from trayai.core.paths import AppPaths

    actions = ConfigStore(AppPaths.from_env()).load().settings.actions
    if find_action(actions, name) is None:
        print(f"error: {unknown_action(name, actions)}", file=stderr)
        return None
    return action_command(name)
