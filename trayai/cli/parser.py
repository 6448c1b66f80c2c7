"""The ``trayai`` argument parser, assembled from each command module's ``register(sub, parents)``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import trayai
from trayai.cli import app, ask, desktop, history, jobs, models, presets, serve, settings
from trayai.cli.parents import make_parents


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trayai",
        usage="trayai [-h] [--version] [--debug] [COMMAND] …   (no command: start the tray app)",
        description="A system-tray assistant for local AI models behind an OpenAI-compatible API.",
        epilog="Environment: LOCAL_MODEL_BASE_URL, LOCAL_MODEL_NAME, LOCAL_API_KEY (also read from "
        "./.env and the config directory's .env). Run `trayai COMMAND --help` for details.",
    )
    parser.add_argument("--version", action=VersionAction, help="versions of trayai, its engine, Qt, Python")
    parser.add_argument("--debug", action="store_true", help="verbose logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = make_parents()
    # The order here is the order of `trayai --help`.
    for module in (ask, models, jobs, settings, presets, history, serve, desktop, app):
        module.register(sub, parents)
    app.add_run_options(parser)
    return parser


def version_report() -> str:
    """trayai's version and what it runs on, for a bug report. Qt's version is asked of QtCore alone
    (no QApplication, no display); the engine's is read from its metadata without importing it."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        engine = f"xllamacpp {version('xllamacpp')}"
    except PackageNotFoundError:
        engine = "not installed (the built-in server needs: pip install 'trayai[local]')"
    try:
        import PySide6
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
        print(version_report(), file=sys.stdout)
        parser.exit()
