"""The ``trayai`` command: the tray app by default, and everything scriptable from a terminal.

One module per job (AGENTS.md, module map); a failure prints its message and hint, exit codes in context.py.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import TextIO

from trayai.cli.forward import forward_to_running

__all__ = ["main"]


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if forward_to_running(words):  # the running app takes it: nothing else to load
        return 0
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.cli.app import is_gui, run_gui, run_target

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.cli.context import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Context, error_text

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.cli.parser import build_app_parser, build_parser, only_app_options

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.errors import AppError, ConfigError

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.logs import setup_logging

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.redact import Redactor

    parser = build_app_parser() if only_app_options(words) else build_parser()
    args = parser.parse_args(words)
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if is_gui(args):
        return run_gui(args, err)
    if not run_target(args).empty:
        print(
            f"error: options before `{args.command}` apply to the tray app; put them after it: "
            f"trayai {args.command} --endpoint …",
            file=err,
        )
        return EXIT_USAGE
    redactor = Redactor()  # one per run: the keys this command resolves, for logs and output alike
    if getattr(args, "debug", False):
        setup_logging(None, debug=True, stderr=True, redactor=redactor)
    ctx: Context | None = None
    try:
        ctx = Context(args, out, err, redactor)
        code: int = args.handler(ctx)
        return code
    except ConfigError as exc:  # a setting or a name the user gave: bad usage
        print(error_text(exc), file=err)
        return EXIT_USAGE
    except AppError as exc:  # every other error of trayai's: said once, here
        if ctx is not None:
            return ctx.fail(exc)
        print(error_text(exc), file=err)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `trayai ask … | head` closed the pipe: not an error
        with contextlib.suppress(Exception):
            sys.stdout = None
        return EXIT_OK
