"""The GUI commands: no command (start the tray app), ``chat``, ``prompt``, ``settings``, ``quit``.

No ``Context``: the app loads its own configuration; a running one is reached over the instance socket.
"""

from __future__ import annotations

import argparse

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
        gui.set_defaults(gui_command=name)


def is_gui(args: argparse.Namespace) -> bool:
    return args.command is None or bool(getattr(args, "gui_command", None))


def run_gui(args: argparse.Namespace) -> int:
    from trayai.ui.app import run_app  # PySide6 is loaded only for the GUI

    return run_app(getattr(args, "gui_command", None) or "show", debug=getattr(args, "debug", False))
