"""Markdown → inert rich-text HTML for Qt's text widgets, whole or block by block while streaming.

See docs/architecture.md, "The chat window" (streaming view rules) and "Security".
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trayai.core.chat.history_records import MessageStatus
from trayai.core.theme import DARK, LIGHT, Theme

# A fence opener/closer: up to three spaces, then ``` or ~~~ (three or more).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
# A list item's first line; a list's items may be apart by blank lines and hold indented lines.
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


# Code keeps its spaces but wraps its long lines in the view (a wide line must not scroll the whole
# transcript sideways); Copy code gives the original text.
CODE_PRE = '<pre style="margin:0; white-space: pre-wrap">'
COPY_CODE_LABEL = "❐&nbsp;Copy code"  # a code block's own Copy button (the glyph of every Copy)


@dataclass(frozen=True)
class Palette:
    """Colours for rendered output, from the contrast-checked themes (``core/theme.py``); ``dark``
    also picks the Pygments style."""

    dark: bool = False

    @property
    def theme(self) -> Theme:
        return DARK if self.dark else LIGHT

    @property
    def code_background(self) -> str:
        return self.theme.code_background

    @property
    def code_border(self) -> str:
        return self.theme.code_border

    @property
    def inline_code_background(self) -> str:
        return self.theme.inline_code_background

    @property
    def muted(self) -> str:
        return self.theme.muted

    @property
    def link(self) -> str:
        return self.theme.link

    @property
    def error(self) -> str:
        return self.theme.error

    @property
    def pygments_style(self) -> str:
        return self.theme.pygments_style

    @property
    def thinking_background(self) -> str:
        return self.theme.thinking_background

    @property
    def thinking_border(self) -> str:
        return self.theme.thinking_border


@dataclass
class Rendered:
    """HTML for some Markdown, and the source of each code block in it (for "Copy code")."""

    html: str
    code_blocks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fence:
    """A fenced code block found by :class:`BlockScanner` (offsets into the scanned text)."""

    start: int  # the opening fence line
    code_start: int  # just after the opening line
    info: str  # the language word of the opening line, or ""
    code_end: int = -1  # the closing fence line (the end of the text when it never closed); -1 while open


@dataclass(frozen=True)
class BlockEnd:
    """The end of a finished Markdown block; ``fence`` when the block ends with a closed code fence."""

    end: int
    fence: Fence | None = None


class BlockScanner:
    """Finds where finished Markdown blocks end in a text that grows, looking at each line once.

    Why: the chat view learns where the finished blocks end after every flush. Re-scanning the open
    tail each time was quadratic: a 1 MB line or a 5 MB code block froze the window for a minute.
    Text is fed as it arrives; only complete lines are examined (an incomplete line is kept in pieces
    and joined once, when its newline arrives). A block ends after a blank line outside a code fence
    and after the line that closes a fence (the rule :func:`stable_prefix_end` always had).
    """

    def __init__(self) -> None:
        self.length = 0
        self.line_start = 0  # where the current incomplete line starts
        self.finished: list[BlockEnd] = []  # every block end found so far, in order
        self._partial: list[str] = []
        self._fence: str | None = None
        self._open: Fence | None = None
        self._closed = False
        # A blank line inside a list ends a block only once the next line is not the list's: a list
        # cut in two renders as two lists ("1." then a new "1. 2."), unlike the same answer reopened.
        self._in_list = False
        self._pending: int | None = None

    @property
    def open_fence(self) -> Fence | None:
        """The code fence that is open at the end of the text, if any."""
        return self._open

    @property
    def stable_end(self) -> int:
        return self.finished[-1].end if self.finished else 0

    def feed(self, text: str) -> None:
        if self._closed:
            raise ValueError("the scanner was closed")
        start = 0
        while True:
            newline = text.find("\n", start)
            if newline < 0:
                if start < len(text):
                    self._partial.append(text[start:])
                break
            piece = text[start : newline + 1]
            if self._partial:
                self._partial.append(piece)
                piece = "".join(self._partial)
                self._partial.clear()
            self._line(piece)
            start = newline + 1
        self.length += len(text)

    def close(self) -> None:
        """The text is complete: whatever is open becomes a finished block (an open fence runs to the end)."""
        if self._closed:
            return
        self._closed = True
        if self._partial:  # the last line, without its newline, is complete now
            self._line("".join(self._partial))
            self._partial.clear()
        if self.length > self.stable_end:
            fence = self._open
            if fence is not None:
                fence = Fence(fence.start, fence.code_start, fence.info, self.length)
            self.finished.append(BlockEnd(self.length, fence))
        self._open = None
        self._fence = None

    def _line(self, line: str) -> None:
        line_start = self.line_start
        line_end = line_start + len(line)
        self.line_start = line_end
        stripped = line.rstrip("\r\n")
        match = _FENCE.match(stripped)
        if self._fence is None and stripped.strip():
            self._list_line(stripped)
        if self._fence is not None and self._open is not None:
            marker = self._fence
            if (
                match
                and match.group(1)[0] == marker[0]
                and len(match.group(1)) >= len(marker)
                and not match.group(2).strip()
            ):
                fence = Fence(self._open.start, self._open.code_start, self._open.info, line_start)
                if not self._in_list:  # a fence inside a list item ends with the list
                    self.finished.append(BlockEnd(line_end, fence))
                self._fence = None
                self._open = None
        elif match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
            self._fence = match.group(1)
            info = match.group(2).strip()
            self._open = Fence(line_start, line_end, info.split(" ")[0] if info else "")
        elif not stripped.strip():
            if self._in_list:
                self._pending = line_end
            else:
                self.finished.append(BlockEnd(line_end))

    def _list_line(self, stripped: str) -> None:
        """A non-blank line outside a fence: does it carry the list on, or end the block before it?"""
        item = _LIST_ITEM.match(stripped) is not None
        if self._pending is not None:
            if item or stripped.startswith(("  ", "\t")):
                self._pending = None  # the list goes on: its blank line ended nothing
                return
            self.finished.append(BlockEnd(self._pending))
            self._pending = None
            self._in_list = False
        if item:
            self._in_list = True


def stable_prefix_end(text: str) -> int:
    """Length of the longest prefix of ``text`` made only of finished Markdown blocks.

    A block is finished after a blank line outside a code fence, or after the line that closes a
    fence. What follows is the open tail, still being written. (One-shot form of :class:`BlockScanner`.)
    """
    scanner = BlockScanner()
    scanner.feed(text)
    return scanner.stable_end


def open_fence(text: str) -> tuple[str, str] | None:
    """If ``text`` (an open tail) is an unclosed code fence: its language and code so far."""
    first, sep, rest = text.partition("\n")
    match = _FENCE.match(first)
    if not match or not sep:
        return None
    if match.group(1)[0] == "`" and "`" in match.group(2):
        return None
    return match.group(2).strip().split(" ")[0] if match.group(2).strip() else "", rest


class MarkdownRenderer:
    """Renders Markdown to Qt-friendly, inert HTML. One instance per palette; reuse it."""

    def __init__(self, palette: Palette | None = None) -> None:
        # lazy: markdown_it is loaded only when used: start-up time and memory
        from markdown_it import MarkdownIt

        self.palette = palette or Palette()
        # Raw HTML off: anything that looks like HTML in an answer is shown as text.
        self._md = (
            MarkdownIt("commonmark", {"html": False, "breaks": False}).enable("table").enable("strikethrough")
        )
        # Only web links become links: anything else the model writes ("trayai:…" actions, file:,
        # relative paths) stays visible text, so it can never look like, or be, one of the app's own.
        self._md.validateLink = _is_web_link  # type: ignore[method-assign]
        self._pending_codes: list[str] = []
        self._code_link: Callable[[int], str] | None = None
        self._code_base = 0
        rules: Any = self._md.renderer.rules  # type: ignore[attr-defined]
        rules["fence"] = self._render_fence
        rules["code_block"] = self._render_fence
        rules["image"] = self._render_image
        rules["code_inline"] = self._render_code_inline
        rules["table_open"] = lambda *_: (
            '<table border="1" cellspacing="0" cellpadding="4" '
            f'style="border-color:{self.palette.code_border}">'
        )
        self._formatter: Any = None

    # ------------------------------------------------------------------ public

    def render(
        self, text: str, *, code_link: Callable[[int], str] | None = None, code_base: int = 0
    ) -> Rendered:
        """Render complete Markdown. ``code_link(i)`` gives the address of block ``code_base + i``'s link."""
        self._pending_codes = []
        self._code_link = code_link
        self._code_base = code_base
        try:
            body = self._md.render(text)
        finally:
            codes, self._pending_codes = self._pending_codes, []
        return Rendered(body, codes)

    def render_plain_code(self, code: str, language: str = "") -> str:
        """An unfinished code block: monospace, unhighlighted, cheap to redo."""
        label = (
            f'<p style="margin:0; color:{self.palette.muted}">{html.escape(language)}</p>' if language else ""
        )
        return self._code_table(label + f"{CODE_PRE}{html.escape(code)}</pre>")

    def highlight(self, code: str, language: str) -> str:
        """Pygments-highlighted code as inline-styled spans (no surrounding <pre>)."""
        # lazy: pygments is loaded only when used: start-up time and memory
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name

        # lazy: pygments is loaded only when used: start-up time and memory
        from pygments.lexers.special import TextLexer
        from pygments.util import ClassNotFound

        try:
            lexer: Any = get_lexer_by_name(language, stripnl=False) if language else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
        return str(highlight(code, lexer, self._html_formatter()))

    # ------------------------------------------------------------------ rules

    def _html_formatter(self) -> Any:
        if self._formatter is None:
            # lazy: pygments is loaded only when used: start-up time and memory
            from pygments.formatters import HtmlFormatter

            self._formatter = HtmlFormatter(style=self.palette.pygments_style, noclasses=True, nowrap=True)
        return self._formatter

    def _code_table(self, inner: str) -> str:
        # A one-cell table is what QTextDocument paints with a background reliably; colours are
        # inline because Qt's HTML subset has no stylesheets for classes.
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{self.palette.code_background}" '
            f'style="border: 1px solid {self.palette.code_border}; margin-top: 4px; margin-bottom: 4px">'
            f"<tr><td>{inner}</td></tr></table>"
        )

    def _render_fence(self, tokens: Sequence[Any], idx: int, _options: Any, _env: Any) -> str:
        token = tokens[idx]
        info = (token.info or "").strip().split(" ")[0] if token.type == "fence" else ""
        code = token.content
        index = self._code_base + len(self._pending_codes)
        self._pending_codes.append(code)
        header = ""
        if self._code_link is not None or info:
            parts = []
            if info:
                parts.append(f'<span style="color:{self.palette.muted}">{html.escape(info)}</span>')
            if self._code_link is not None:
                href = html.escape(self._code_link(index), quote=True)
                parts.append(
                    f'<a href="{href}" title="Copy this code" style="color:{self.palette.link}; '
                    f'text-decoration:none">{COPY_CODE_LABEL}</a>'
                )
            header = '<p style="margin:0">' + "&nbsp;&nbsp;".join(parts) + "</p>"
        body = self.highlight(code.rstrip("\n"), info)
        return self._code_table(f"{header}{CODE_PRE}{body}</pre>")

    def _render_image(self, tokens: Sequence[Any], idx: int, _options: Any, _env: Any) -> str:
        # Never embedded (a remote <img> would be a fetch): a link labelled with the alt text.
        token = tokens[idx]
        alt = html.escape(token.content or "image")
        src = str(token.attrGet("src") or "")
        if src.startswith(("http://", "https://")):
            return f'<a href="{html.escape(src, quote=True)}">[image: {alt}]</a>'
        return f"[image: {alt}]"

    def _render_code_inline(self, tokens: Sequence[Any], idx: int, _options: Any, _env: Any) -> str:
        content = html.escape(tokens[idx].content)
        return f'<code style="background-color:{self.palette.inline_code_background}">{content}</code>'


def _is_web_link(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


def plain_text_to_html(text: str) -> str:
    """User messages are shown as typed: escaped, line breaks kept, never interpreted as Markdown."""
    return '<p style="white-space: pre-wrap">' + html.escape(text) + "</p>"


__all__ = [
    "BlockEnd",
    "BlockScanner",
    "Fence",
    "MarkdownRenderer",
    "Palette",
    "Rendered",
    "open_fence",
    "plain_text_to_html",
    "reply_footer",
    "stable_prefix_end",
]


def reply_footer(meta: dict[str, object], status: str) -> str:
    """The line under an answer: model, tokens, speed, first-token time, and why it ended."""
    parts: list[str] = []
    if meta.get("model"):
        asked = meta.get("asked_model")  # the server answered with another model than the one asked
        parts.append(str(meta["model"]) + (f" (answered instead of {asked!s})" if asked else ""))
    tokens = meta.get("completion_tokens")
    if isinstance(tokens, int) and tokens:
        approx = "≈" if meta.get("usage_estimated") else ""
        parts.append(f"{approx}{tokens} tokens")
    tps = meta.get("tokens_per_second")
    if isinstance(tps, (int, float)) and tps:
        parts.append(f"{tps:.1f} tok/s")
    ttft = meta.get("ttft_s")
    if isinstance(ttft, (int, float)):
        parts.append(f"first token {ttft:.2f} s")
    finish = meta.get("finish_reason")
    if status == MessageStatus.STOPPED:
        parts.append("stopped")
    elif status == MessageStatus.INTERRUPTED:
        parts.append("interrupted: trayai closed while this answer was streaming")
    elif status == MessageStatus.ERROR:
        parts.append("failed")
    elif finish == "length":
        parts.append("cut at max tokens")
    elif finish and finish not in ("stop", "cancelled", "error"):
        parts.append(f"finish: {finish}")
    fallback = meta.get("fallback_profile")
    if fallback:
        parts.append(f"via fallback {fallback!s} ({meta.get('fallback_reason') or 'the server failed'})")
    dropped = meta.get("dropped")
    if isinstance(dropped, int) and dropped:
        noun = "message" if dropped == 1 else "messages"
        parts.append(f"{dropped} earlier {noun} not sent (context window)")
    return " · ".join(parts)
