"""The ``trayai`` argument parser, assembled from each command module's ``register(sub, parents)``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import trayai
from trayai.cli import app

# The options that, alone, start the tray app; `trayai` with only these builds no command's parser.
APP_FLAGS = ("--debug",)
APP_OPTIONS = ("--endpoint", "--model", "--profile")
# Other names people type for a command: `trayai doctor` is what a diagnostic is called elsewhere.
ALIASES: dict[str, tuple[str, ...]] = {"status": ("doctor",)}


def only_app_options(words: Sequence[str]) -> bool:
    """True when ``words`` (the command line) only starts the tray app: no command, no help.

    Then :func:`build_app_parser` parses them, and the tray does not hold every command's module
    and argparse objects (~1.4 MB) all day.
    """
    rest = iter(words)
    for word in rest:
        if word in APP_FLAGS or word.startswith(tuple(f"{o}=" for o in APP_OPTIONS)):
            continue
        value = next(rest, None) if word in APP_OPTIONS else None
        if value is not None and not value.startswith("-"):
            continue
        return False
    return True


def build_app_parser() -> argparse.ArgumentParser:
    """The top-level parser without commands: what `trayai [--debug] [--endpoint …]` needs."""
    parser = _top_parser()
    parser.set_defaults(command=None)
    app.add_run_options(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.cli import ask, desktop, get, history, jobs, library, models, presets, serve, settings, tools

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.cli.parents import make_parents

    parser = _top_parser()
    # prog: a command's usage and errors say `trayai ask …`, not the whole top-level usage line
    # (argparse would otherwise prefix each command with the custom usage string above).
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", prog="trayai", action=Commands, parser_class=CommandParser
    )
    parents = make_parents()
    # The order here is the order of `trayai --help`.
    for module in (ask, models, library, get, jobs, settings, presets, history, serve, desktop, tools, app):
        module.register(sub, parents)
    app.add_run_options(parser)
    return parser


class CommandParser(argparse.ArgumentParser):
    """A command's parser: an argument it does not know is its error, said with its own usage.

    argparse hands a subcommand's leftovers up to the top-level parser, which then prints the top
    usage ("usage: trayai [-h] … [COMMAND]") for a mistake made in `trayai ask`; a person needs the
    usage of the command they typed. The leftovers always belong to the deepest command (a
    subcommand takes every word after its name), so refusing them here names the right one.
    """

    def parse_known_args(  # type: ignore[override]  # typeshed's overloads; the same at runtime
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


class Commands(argparse._SubParsersAction):  # type: ignore[type-arg]  # noqa: SLF001
    """The ``COMMAND`` choices: each command gets the other names :data:`ALIASES` gives it.

    Aliases are added here, not by each command module, so the names people type are in one place.
    """

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("aliases", ALIASES.get(name, ()))
        parser: argparse.ArgumentParser = super().add_parser(name, **kwargs)
        return parser


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trayai",
        usage="trayai [-h] [--version] [--debug] [COMMAND] …   (no command: start the tray app)",
        description="A system-tray assistant for local AI models behind an OpenAI-compatible API.",
        epilog="Environment: LOCAL_MODEL_BASE_URL, LOCAL_MODEL_NAME, LOCAL_API_KEY (also read from "
        "./.env and the config directory's .env). Run `trayai COMMAND --help` for details.",
    )
    parser.add_argument("--version", action=VersionAction, help="versions of trayai, its engine, Qt, Python")
    parser.add_argument("--debug", action="store_true", help="verbose logging on stderr")
    return parser


def version_report() -> str:
    """trayai's version and what it runs on, for a bug report. Qt's version is asked of QtCore alone
    (no QApplication, no display); the engine's is read from its metadata without importing it."""
    # lazy: platform is loaded only when used: start-up time and memory
    import platform

    # lazy: importlib is loaded only when used: start-up time and memory
    from importlib.metadata import PackageNotFoundError, version

    try:
        engine = f"xllamacpp {version('xllamacpp')}"
    except PackageNotFoundError:
        engine = "not installed (the built-in server needs: pip install 'trayai[local]')"
    try:
        # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
        import PySide6

        # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
        from PySide6 import QtCore

        qt = f"PySide6 {PySide6.__version__}, Qt {QtCore.qVersion()}"
    except ImportError as exc:
        qt = f"not available ({exc})"
    python = platform.python_version()
    return "\n".join([f"trayai {trayai.__version__}", f"engine: {engine}", f"Qt: {qt}", f"Python: {python}"])


class VersionAction(argparse.Action):
    """``--version``: the report above, printed only when asked (``trayai.cli`` stays free of Qt)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> NoReturn:
        try:
            print(version_report(), file=sys.stdout, flush=True)
        except BrokenPipeError:  # `trayai --version | head -1`: the reader had enough, not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        parser.exit()
