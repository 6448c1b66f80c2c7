"""Arguments several commands share, as argparse parent parsers (one definition, one help text).

A parent's options come first in a command's ``--help``, before the command's own.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TypeAlias

# argparse has no public name for what add_subparsers() returns; typeshed only knows this one.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # noqa: SLF001


@dataclass(frozen=True)
class Parents:
    """Pass the ones a command takes as ``parents=[…]`` to ``sub.add_parser``."""

    endpoint: argparse.ArgumentParser  # --endpoint/--model/--profile (a help group) and --debug
    json: argparse.ArgumentParser  # --json: machine-readable output
    no_autostart: argparse.ArgumentParser  # --no-autostart: for commands that may start the server


def make_parents() -> Parents:
    endpoint = argparse.ArgumentParser(add_help=False)
    group = endpoint.add_argument_group("endpoint selection")
    group.add_argument("--endpoint", metavar="URL", help="base URL of an OpenAI-compatible server")
    group.add_argument("--model", metavar="NAME", help="model name (as the server lists it)")
    group.add_argument("--profile", metavar="NAME", help="endpoint profile from the configuration")
    endpoint.add_argument("--debug", action="store_true", help="verbose logging on stderr")

    json = argparse.ArgumentParser(add_help=False)
    json.add_argument("--json", action="store_true", help="machine-readable output")

    no_autostart = argparse.ArgumentParser(add_help=False)
    no_autostart.add_argument(
        "--no-autostart",
        action="store_true",
        help="do not start the built-in server when the local endpoint is silent",
    )
    return Parents(endpoint=endpoint, json=json, no_autostart=no_autostart)
