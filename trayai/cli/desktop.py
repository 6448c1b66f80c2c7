"""``trayai desktop install|uninstall``: trayai in the applications menu, with its icons (XDG desktops)."""

from __future__ import annotations

import json

from trayai.cli.context import EXIT_OK, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.desktop_entry import DesktopError, DesktopPlaces, DesktopResult
from trayai.core.textsafe import escape_line


def register(sub: Subparsers, parents: Parents) -> None:
    desktop = sub.add_parser(
        "desktop", help="trayai in the applications menu: a menu entry and icons (desktop install|uninstall)"
    )
    actions = desktop.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install",
        parents=[parents.json],
        help="add trayai to the applications menu (entry with New chat / Quick prompt / Settings, icons)",
    )
    install.set_defaults(handler=cmd_desktop_install)
    uninstall = actions.add_parser(
        "uninstall", parents=[parents.json], help="remove exactly the files `desktop install` wrote"
    )
    uninstall.set_defaults(handler=cmd_desktop_uninstall)


def cmd_desktop_install(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.desktop_entry import install

    def render_png(svg: bytes, size: int) -> bytes:
        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.ui.icon_render import render_png as qt_render  # PySide6 only for this command

        return qt_render(svg, size)

    try:
        result = install(DesktopPlaces.from_env(ctx.paths.data_dir), render_png)
    except DesktopError as exc:
        return _failed(ctx, exc)
    _show(ctx, result)
    return EXIT_OK


def cmd_desktop_uninstall(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.desktop_entry import uninstall

    try:
        result = uninstall(DesktopPlaces.from_env(ctx.paths.data_dir))
    except DesktopError as exc:
        return _failed(ctx, exc)
    _show(ctx, result)
    return EXIT_OK


def _show(ctx: Context, result: DesktopResult) -> None:
    """Each file with what happened to it on stdout (or JSON); the caches and the outcome on stderr."""
    if ctx.args.json:
        json.dump(result.as_json(), ctx.out, indent=2, ensure_ascii=False)
        ctx.out.write("\n")
    else:
        for change in result.files:
            ctx.out.write(f"{change.change:<12} {escape_line(str(change.path))}  ({change.what})\n")
    for note in result.notes:
        ctx.say(escape_line(note))
    ctx.say(result.summary())


def _failed(ctx: Context, exc: DesktopError) -> int:
    return ctx.fail(exc)
