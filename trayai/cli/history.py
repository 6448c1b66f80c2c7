"""``trayai history list|search|export``: the chat window's history, from the shell (one handler per
action, each run on the opened store by :func:`_reads_history`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from trayai.cli.context import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.textsafe import escape_line, json_safe, strip_controls

if TYPE_CHECKING:
    from trayai.core.chat.history import HistoryStore


def register(sub: Subparsers, parents: Parents) -> None:
    history = sub.add_parser("history", help="chat history (history list|search|export)")
    actions = history.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_list(actions, parents)
    _add_search(actions, parents)
    _add_export(actions)


def _reads_history(action: Callable[[Context, HistoryStore], int]) -> Callable[[Context], int]:
    """A handler that opens the history store (read-only when the data dir refuses writes), runs
    ``action`` on it and turns a ``HistoryError`` into its message and hint."""

    @functools.wraps(action)
    def handler(ctx: Context) -> int:
        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.core.chat.history import HistoryStore

        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.core.chat.history_db import HistoryError

        try:
            history = HistoryStore.in_dir(ctx.paths.data_dir)
        except HistoryError as exc:
            try:  # a read-only/full data dir can still be read: listing must not need a write
                if not exc.storage:
                    raise
                history = HistoryStore.in_dir(ctx.paths.data_dir, read_only=True)
            except HistoryError:
                return ctx.fail(exc)
            ctx.say(f"note: {exc.message} Reading the history without changing it.")
        if history.recovered_from is not None:
            ctx.say(f"warning: the history database was damaged; it was moved to {history.recovered_from}")
        try:
            with history:
                return action(ctx, history)
        except HistoryError as exc:
            return ctx.fail(exc)

    return handler


def _add_list(actions: Subparsers, parents: Parents) -> None:
    hlist = actions.add_parser("list", parents=[parents.json], help="conversations, newest first")
    hlist.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    hlist.set_defaults(handler=cmd_history_list)


@_reads_history
def cmd_history_list(ctx: Context, history: HistoryStore) -> int:
    # lazy: datetime is loaded only when used: start-up time and memory
    from datetime import datetime

    conversations = history.list_conversations(limit=ctx.args.limit)
    if ctx.args.json:
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "updated": datetime.fromtimestamp(c.updated).isoformat(timespec="seconds"),
                "messages": c.message_count,
                "model": c.model,
            }
            for c in conversations
        ]
        ctx.out.write(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
        return EXIT_OK
    if not conversations:
        ctx.say("no conversations yet (open the chat window with: trayai chat)")
    for c in conversations:
        when = datetime.fromtimestamp(c.updated).strftime("%Y-%m-%d %H:%M")
        ctx.out.write(f"{c.id:>5}  {when}  {c.message_count:>4} msgs  {escape_line(c.title)}\n")
    return EXIT_OK


def _add_search(actions: Subparsers, parents: Parents) -> None:
    hsearch = actions.add_parser(
        "search", parents=[parents.json], help="full-text search over every message and title"
    )
    hsearch.add_argument("query", nargs="+", help="words to find (all must match; the last may be a prefix)")
    hsearch.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")
    hsearch.set_defaults(handler=cmd_history_search)


@_reads_history
def cmd_history_search(ctx: Context, history: HistoryStore) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.history_search import MATCH_END, MATCH_START

    hits = history.search(" ".join(ctx.args.query), limit=ctx.args.limit)
    if ctx.args.json:
        rows = [
            {
                "conversation": h.conversation_id,
                "title": h.title,
                "message": h.message_id,
                "index": h.index,
                "role": h.role,
                "snippet": h.snippet.replace(MATCH_START, "").replace(MATCH_END, ""),
            }
            for h in hits
        ]
        ctx.out.write(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
        return EXIT_OK
    if not hits:
        ctx.say("no matches")
        return EXIT_FAIL
    colour = ctx.out.isatty()
    start, end = ("\033[1;33m", "\033[0m") if colour else ("[", "]")
    for h in hits:
        # Stored text may hold a server's control sequences: shown escaped, around our markers.
        snippet = (
            MATCH_START.join(
                MATCH_END.join(escape_line(part) for part in piece.split(MATCH_END))
                for piece in h.snippet.split(MATCH_START)
            )
            .replace(MATCH_START, start)
            .replace(MATCH_END, end)
        )
        where = "title" if h.message_id is None else h.role
        ctx.out.write(f"{h.conversation_id:>5}  {escape_line(h.title)}\n       {where}: {snippet}\n")
    return EXIT_OK


def _add_export(actions: Subparsers) -> None:
    hexport = actions.add_parser("export", help="one conversation as Markdown or JSON")
    hexport.add_argument("id", type=int, help="the conversation's number (see: trayai history list)")
    hexport.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    hexport.add_argument("-o", "--output", help="write to this file instead of stdout")
    hexport.add_argument("--force", action="store_true", help="overwrite an existing output file")
    hexport.set_defaults(handler=cmd_history_export)


@_reads_history
def cmd_history_export(ctx: Context, history: HistoryStore) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.history_db import ConversationNotFound

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.history_export import ExportFormat, export_text

    args = ctx.args
    try:
        conversation = history.conversation(args.id, include_deleted=False)
    except ConversationNotFound:
        ctx.say(f"error: no conversation {args.id}\n  → list them with: trayai history list")
        return EXIT_FAIL
    text = export_text(history, conversation.id, ExportFormat(args.format))
    if args.output:
        target = Path(args.output)
        if target.exists() and not args.force:
            ctx.say(f"error: {target} exists\n  → choose another name or add --force")
            return EXIT_USAGE
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            ctx.say(f"error: could not write {target}: {exc.strerror or exc}")
            return EXIT_FAIL
        ctx.say(f"exported conversation {args.id} to {target}")
    else:
        ctx.out.write(text if args.format == "json" else strip_controls(text))
    return EXIT_OK
