"""The GUI commands: no command (start the tray app), ``chat``, ``prompt``, ``settings``, ``quit``.

No ``Context``: the app loads its own configuration; a running one is reached over the instance socket.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from trayai.cli.context import EXIT_FAIL, EXIT_USAGE
from trayai.cli.parents import Parents, Subparsers
from trayai.core.runtarget import RunTarget


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


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """``trayai --endpoint URL --model M --profile P``: the tray app (or the running one) on that
    endpoint for this run, never saved. Before a command they apply to the app only."""
    group = parser.add_argument_group("the tray app, for this run (not saved)")
    group.add_argument("--endpoint", dest="run_endpoint", metavar="URL", help="talk to this server")
    group.add_argument("--model", dest="run_model", metavar="NAME", help="use this model")
    group.add_argument("--profile", dest="run_profile", metavar="NAME", help="use this profile")


def run_target(args: argparse.Namespace) -> RunTarget:
    return RunTarget(
        getattr(args, "run_profile", None),
        getattr(args, "run_endpoint", None),
        getattr(args, "run_model", None),
    )


def check_run_target(target: RunTarget, stderr: TextIO) -> RunTarget | None:
    """The target with its URL normalised, or None after saying why it cannot be used (exit 2)."""
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.net.urls import InvalidURLError, normalize_base_url

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.paths import AppPaths

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings.store import ConfigStore

    base_url = target.base_url
    if base_url is not None:
        try:
            base_url = normalize_base_url(base_url).url
        except InvalidURLError as exc:
            print(f"error: invalid --endpoint: {exc}", file=stderr)
            return None
    if target.profile is not None:
        settings = ConfigStore(AppPaths.from_env()).load().settings
        if not settings.has_profile(target.profile):
            names = ", ".join(repr(p.name) for p in settings.profiles)
            print(f"error: no profile named {target.profile!r} (profiles: {names})", file=stderr)
            return None
    return RunTarget(target.profile, base_url, target.model)


def is_gui(args: argparse.Namespace) -> bool:
    return args.command is None or bool(getattr(args, "gui_command", None))


def run_gui(args: argparse.Namespace, stderr: TextIO) -> int:
    command = getattr(args, "gui_command", None) or "show"
    target = run_target(args)
    if not target.empty:
        checked_target = check_run_target(target, stderr)
        if checked_target is None:
            return EXIT_USAGE
        target = checked_target
    action = getattr(args, "action", None)
    if command == "prompt" and action is not None:
        checked = _action_command(action, stderr)
        if checked is None:
            return EXIT_FAIL
        command = checked
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.cli.context import error_text

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.errors import AppError

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.ui.bootstrap import run_app  # PySide6 is loaded only for the GUI

    try:
        return run_app(command, debug=getattr(args, "debug", False), target=target)
    except AppError as exc:  # no display, no instance socket: only once no running trayai took it
        print(error_text(exc, lead="trayai"), file=stderr)
        return EXIT_FAIL


def _action_command(name: str, stderr: TextIO) -> str | None:
    """The instance command for action ``name``, or None after saying there is no such action.

    Checked here against the configuration, so a key binding with a typo fails in the terminal (exit 1,
    the names listed) instead of starting or poking the app for nothing.
    """
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.actions import action_command, find_action, unknown_action

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.paths import AppPaths

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.settings.store import ConfigStore

    actions = ConfigStore(AppPaths.from_env()).load().settings.actions
    if find_action(actions, name) is None:
        print(f"error: {unknown_action(name, actions)}", file=stderr)
        return None
    return action_command(name)
