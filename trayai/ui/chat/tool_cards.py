"""A tool call as the transcript shows it: a card with the server/tool, the arguments pretty-printed,
that it waits for the person (asked with real buttons under the transcript: ``tool_approval.py``),
and what became of it with the result folded underneath. One drawing for the live card and the
stored ``tool`` message, so a reopened chat looks exactly like the finished one. Tool text is
untrusted: it is only ever escaped into ``<pre>``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypedDict, cast

from PySide6.QtGui import QColor, QTextCursor, QTextFrame, QTextFrameFormat

from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.history_wire import TOOL_NAME
from trayai.core.chat.render import Palette
from trayai.core.chat.tool_loop import CallOutcome, RequestedCall, ToolCallDone
from trayai.core.strenum import StrEnum
from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

CARD_META = "tool_card"  # a stored tool message's meta: how its card is drawn again (CardMeta)
LIMIT_META = "tool_limit"  # the round limit's note, kept on the last card of the answer
SHOWN_RESULT_CHARS = 64 * 1024  # of an opened result; the rest is counted (the model got it all)


class CardState(StrEnum):
    """Where a call is: being decided by policy or running, waiting for the person, or done."""

    RUNNING = "running"
    WAITING = "waiting"
    DONE = "done"


class CardMeta(TypedDict, total=False):
    """What a stored tool message keeps for its card (besides the content the model was told)."""

    title: str
    arguments: str
    outcome: str
    is_error: bool
    truncated: bool
    seconds: float
    error: str


@dataclass(frozen=True)
class ToolCard:
    """Everything a card shows; ``detail`` is the result (or what the model was told) when done."""

    title: str
    arguments: str
    state: CardState = CardState.RUNNING
    outcome: CallOutcome | None = None
    detail: str = ""
    is_error: bool = False
    truncated: bool = False
    seconds: float | None = None
    error: str = ""
    limit_note: str = ""

    def waiting(self) -> ToolCard:
        return replace(self, state=CardState.WAITING)

    def running(self) -> ToolCard:
        return replace(self, state=CardState.RUNNING)


def card_for_request(request: RequestedCall) -> ToolCard:
    return ToolCard(request.title, request.arguments)


def card_meta(done: ToolCallDone) -> CardMeta:
    """What a call's tool message keeps so its card is drawn again as it looked."""
    meta = CardMeta(title=done.request.title, arguments=done.request.arguments, outcome=done.outcome.value)
    if done.result is not None:
        meta["is_error"], meta["truncated"] = done.result.is_error, done.result.truncated
        meta["seconds"] = done.result.seconds
    if done.error is not None:
        meta["error"] = done.error.message
    return meta


def cancelled_meta(title: str, arguments: str) -> CardMeta:
    return CardMeta(title=title, arguments=arguments, outcome=CallOutcome.CANCELLED.value)


def card_for_message(message: StoredMessage) -> ToolCard:
    """A stored tool message's card (a message stored without card meta shows its tool and content)."""
    raw = message.meta.get(CARD_META)
    meta = cast(CardMeta, raw if isinstance(raw, Mapping) else {})
    try:
        outcome = CallOutcome(meta.get("outcome", CallOutcome.RAN.value))
    except ValueError:
        outcome = CallOutcome.RAN
    is_error = bool(meta.get("is_error", False))
    detail = message.content
    if outcome is CallOutcome.RAN and is_error:
        detail = detail.removeprefix("The tool reported an error:\n")
    seconds = meta.get("seconds")
    note = message.meta.get(LIMIT_META)
    return ToolCard(
        title=str(meta.get("title") or message.meta.get(TOOL_NAME) or "tool"),
        arguments=str(meta.get("arguments", "")),
        state=CardState.DONE,
        outcome=outcome,
        detail=detail,
        is_error=is_error,
        truncated=bool(meta.get("truncated", False)),
        seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
        error=str(meta.get("error", "")),
        limit_note=str(note) if isinstance(note, str) else "",
    )


NOT_RUN = {
    CallOutcome.DENIED: "✕ Denied — the model was told you said no",
    CallOutcome.REFUSED: "✕ Not run — your tool settings do not allow this tool",
    CallOutcome.INVALID: "✕ Not run — the arguments do not fit the tool's input; the model was told why",
    CallOutcome.UNKNOWN: "✕ Not run — no connected tool has this name",
    CallOutcome.CANCELLED: "■ Cancelled — stopped before it finished",
}


def outcome_words(card: ToolCard) -> str:
    """The card's status line in words a person reads."""
    if card.state is CardState.WAITING:
        return "Waiting for you: Allow once, Always for this tool or Deny, below"
    if card.state is CardState.RUNNING:
        return "Running…"
    if card.outcome is CallOutcome.RAN:
        took = "" if card.seconds is None else f" in {card.seconds:.{2 if card.seconds < 1 else 1}f} s"
        return f"⚠ The tool reported an error{took}" if card.is_error else f"✓ Done{took}"
    if card.outcome is CallOutcome.FAILED:
        return f"✕ Failed — {card.error or 'the call did not complete'}"
    return NOT_RUN.get(card.outcome or CallOutcome.RAN, str(card.outcome))


def size_words(text: str) -> str:
    size = len(text.encode("utf-8", errors="replace"))
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


class CardHtml:
    """A card's frame look and its HTML, with the view's links and the current palette."""

    PADDING, INDENT = 8, 24  # the card sits indented under the answer that made the call

    def __init__(self, links: ActionLinks) -> None:
        self._links = links

    def frame_format(self, palette: Palette) -> QTextFrameFormat:
        theme = palette.theme
        fmt = QTextFrameFormat()
        fmt.setPadding(self.PADDING)
        fmt.setLeftMargin(self.INDENT)
        fmt.setTopMargin(2)
        fmt.setBottomMargin(2)
        fmt.setBorder(1)
        fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        fmt.setBorderBrush(QColor(theme.tool_border))
        fmt.setBackground(QColor(theme.tool_card))
        return fmt

    def html(self, card: ToolCard, key: int, palette: Palette, *, open_detail: bool = False) -> str:
        theme = palette.theme
        mono = "font-family:monospace; white-space:pre-wrap; margin:4px 0"
        parts = [
            f'<p style="margin:0"><b>⚒ {html.escape(card.title)}</b>'
            f'<span style="color:{theme.muted}"> · tool call</span></p>',
            f'<pre style="{mono}">{html.escape(card.arguments or "{}")}</pre>',
        ]
        colour = {
            CallOutcome.RAN: theme.error if card.is_error else theme.success,
            CallOutcome.CANCELLED: theme.muted,
        }.get(card.outcome or CallOutcome.RAN, theme.error)
        if card.state is not CardState.DONE:
            colour = theme.text
        parts.append(f'<p style="margin:0; color:{colour}">{html.escape(outcome_words(card))}</p>')
        if card.state is CardState.DONE and card.detail:
            parts.append(self._detail(card, key, palette, open_detail=open_detail, mono=mono))
        if card.limit_note:
            parts.append(
                f'<p style="margin:4px 0 0 0; color:{theme.muted}">{html.escape(card.limit_note)}</p>'
            )
        return "".join(parts)

    def _detail(self, card: ToolCard, key: int, palette: Palette, *, open_detail: bool, mono: str) -> str:
        what = "result" if card.outcome is CallOutcome.RAN else "what the model was told"
        verb = "Hide" if open_detail else "Show"
        label = f"{'▾' if open_detail else '▸'}&nbsp;{verb} {what} ({size_words(card.detail)})"
        tip = "Tool output is shown as plain text; nothing in it is opened or run"
        href = self._links.href(TranscriptAction.TOOL_RESULT, key)
        link = f'<a href="{href}" title="{tip}" style="text-decoration:none">{label}</a>'
        out = f'<p style="margin:4px 0 0 0">{link}'
        if card.truncated:
            out += (
                f'<span style="color:{palette.muted}"> · truncated: the tool returned more than 256 KB</span>'
            )
        out += "</p>"
        if open_detail:
            shown = card.detail[:SHOWN_RESULT_CHARS]
            rest = len(card.detail) - len(shown)
            out += f'<pre style="{mono}">{html.escape(shown)}</pre>'
            if rest > 0:
                out += f'<p style="margin:0; color:{palette.muted}">… {rest:,} more characters not shown</p>'
        return out


class CardFrames:
    """The cards in one transcript document: each card's frame by key (a stored tool message's id,
    or a negative key while a live call has no message yet), drawn again in place when it changes."""

    def __init__(self, links: ActionLinks) -> None:
        self.look = CardHtml(links)
        self.frames: dict[int, QTextFrame] = {}
        self.cards: dict[int, ToolCard] = {}
        self.opened: set[int] = set()

    def clear(self) -> None:
        self.frames.clear()
        self.cards.clear()
        self.opened.clear()

    def insert(self, cursor: QTextCursor, key: int, card: ToolCard, palette: Palette) -> QTextFrame:
        """Insert the card as a frame at ``cursor`` (which ends after it)."""
        frame = cursor.insertFrame(self.look.frame_format(palette))
        inner = frame.firstCursorPosition()
        inner.insertHtml(self.look.html(card, key, palette, open_detail=key in self.opened))
        cursor.setPosition(frame.lastPosition() + 1)
        self.frames[key] = frame
        self.cards[key] = card
        return frame

    def redraw(self, key: int, card: ToolCard, palette: Palette) -> None:
        """Draw ``key``'s card again inside its frame (same place, same frame)."""
        frame = self.frames.get(key)
        if frame is None:
            return
        cursor = QTextCursor(frame.document())
        cursor.beginEditBlock()
        cursor.setPosition(frame.firstPosition())
        cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(self.look.html(card, key, palette, open_detail=key in self.opened))
        cursor.endEditBlock()
        self.cards[key] = card

    def toggle(self, key: int, palette: Palette) -> None:
        """Show or hide a done card's result."""
        card = self.cards.get(key)
        if card is None or card.state is not CardState.DONE:
            return
        self.opened ^= {key}
        self.redraw(key, card, palette)

    def forget(self, key: int) -> None:
        self.frames.pop(key, None)
        self.cards.pop(key, None)
        self.opened.discard(key)


__all__ = [
    "CARD_META",
    "LIMIT_META",
    "CardFrames",
    "CardHtml",
    "CardMeta",
    "CardState",
    "ToolCard",
    "card_for_message",
    "card_for_request",
    "card_meta",
    "outcome_words",
]
