"""The ``trayai`` argument parser, assembled from each command module's ``register(sub, parents)``."""

from __future__ import annotations

import argparse

from trayai import __version__
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
    parser.add_argument("--version", action="version", version=f"trayai {__version__}")
    parser.add_argument("--debug", action="store_true", help="verbose logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = make_parents()
    # The order here is the order of `trayai --help`.
    for module in (ask, models, jobs, settings, presets, history, serve, desktop, app):
        module.register(sub, parents)
    app.add_run_options(parser)
    return parser
