"""Writes one answer's Markdown into its QTextFrame a bounded amount at a time, whatever it looks like.

The rules and the freezes they prevent: docs/architecture.md, "The chat window", streaming view rules.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from enum import Enum

from PySide6.QtGui import (
    QColor,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFrame,
)

from trayai.core.chat.render import COPY_CODE_LABEL, BlockEnd, BlockScanner, Fence, MarkdownRenderer

_LINE_SEPARATOR = "\u2028"  # a line break inside a QTextBlock: lines without a block each


class _Mode(Enum):
    NONE = "none"  # the tail region is empty
    MARKDOWN = "markdown"  # the open tail, rendered as Markdown (re-rendered per flush)
    FENCE = "fence"  # an open fence growing as plain text in its table
    PLAIN = "plain"  # a long block shown as plain text, appended to
    CODE = "code"  # a long code block shown as plain monospace, appended to


class _Text:
    """The answer's text: every piece (joined on demand) and a window from the first offset still needed."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self.length = 0
        self._window = ""
        self._base = 0

    def add(self, text: str) -> None:
        self._pieces.append(text)
        self._window += text
        self.length += len(text)

    def full(self) -> str:
        if len(self._pieces) > 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    def slice(self, start: int, end: int) -> str:
        if start < self._base:  # only after a forced full render: fall back on the whole text
            return self.full()[start:end]
        return self._window[start - self._base : end - self._base]

    def trim(self, start: int) -> None:
        """Nothing before ``start`` is needed any more."""
        if start > self._base:
            self._window = self._window[start - self._base :]
            self._base = start


class AnswerWriter:
    """Renders Markdown into ``frame`` from ``start`` to the frame's end (rules: docs/architecture.md)."""

    TAIL_MARKDOWN_LIMIT = 16_000
    BLOCK_MARKDOWN_LIMIT = 32_000
    CODE_HIGHLIGHT_LIMIT = 12_000
    PLAIN_BLOCK_CHARS = 4_000
    STEP_BUDGET = 32_000

    def __init__(
        self,
        frame: QTextFrame,
        start: int,
        renderer: MarkdownRenderer,
        codes: list[str],
        code_href: Callable[[int], str],
    ) -> None:
        self.frame = frame
        self.document = frame.document()
        self.renderer = renderer
        self.codes = codes
        self._code_href = code_href
        self.tail = QTextCursor(self.document)  # start of the region still being written
        self.tail.setPosition(start)
        self.tail.setKeepPositionOnInsert(True)
        self.text = _Text()
        self.scanner = BlockScanner()
        self.committed = 0  # text before this is final in the document
        self.shown = 0  # PLAIN/CODE: text before this is on screen
        self._next_end = 0  # index into scanner.finished of the next block end to handle
        self._mode = _Mode.NONE
        self._rendered_length = -1  # MARKDOWN: text length when the tail was last rendered
        self._fence_cursor: QTextCursor | None = None
        self._fence_code_len = 0
        self._plain_block_len = 0
        self._plain_fence: Fence | None = None
        self._plain_code_index = -1
        self.plain_blocks = 0  # blocks shown as plain text (tests and benchmarks read it)

    # ------------------------------------------------------------------ input

    def add(self, text: str) -> None:
        if text:
            self.text.add(text)
            self.scanner.feed(text)

    def finish(self) -> None:
        """No more text: the open block is finished too."""
        self.scanner.close()

    @property
    def done(self) -> bool:
        """Everything finished and on screen."""
        return (
            self.scanner.open_fence is None
            and self._next_end >= len(self.scanner.finished)
            and self.committed >= self.text.length
            and self._mode in (_Mode.NONE, _Mode.MARKDOWN)
        )

    # ------------------------------------------------------------------ the work

    def step(self, budget: int | None = None) -> bool:
        """Bring the document up to date, doing about ``budget`` characters of work; True if more is left.

        Call inside an edit block (one layout per call).
        """
        remaining = self.STEP_BUDGET if budget is None else budget
        while True:
            ends = self.scanner.finished
            end = ends[self._next_end] if self._next_end < len(ends) else None
            if self._mode in (_Mode.PLAIN, _Mode.CODE):
                if remaining <= 0:
                    return True
                stop, commit_at = self._plain_target(end)
                final = commit_at is not None
                target = stop if final else self._held_back(stop)
                remaining -= self._append_plain(target, remaining, final=final)
                if commit_at is None or self.shown < stop:
                    return self.shown < stop and remaining <= 0
                self._commit_plain(commit_at, end)
                continue
            if end is not None:
                if remaining <= 0:
                    return True
                remaining -= self._finished_blocks()
                continue
            if self.scanner.open_fence is None and self.committed >= self.text.length:
                return False
            if remaining <= 0 and self._mode is _Mode.MARKDOWN:
                return self._rendered_length != self.text.length
            if self._open_tail():
                continue  # switched to plain: append as much as the budget allows
            return False

    # ------------------------------------------------------------------ finished blocks

    def _fits_markdown(self, start: int, end: BlockEnd) -> bool:
        if end.end - start > self.BLOCK_MARKDOWN_LIMIT:
            return False
        fence = end.fence
        return fence is None or fence.code_end - fence.code_start <= self.CODE_HIGHLIGHT_LIMIT

    def _finished_blocks(self) -> int:
        """Render the next finished block(s) once; returns the characters of work done."""
        ends = self.scanner.finished
        first = ends[self._next_end]
        self._clear_tail()
        if self._fits_markdown(self.committed, first):
            stop = self._next_end + 1
            while (
                stop < len(ends)
                and ends[stop].end - self.committed <= self.BLOCK_MARKDOWN_LIMIT
                and self._fits_markdown(ends[stop - 1].end, ends[stop])
            ):
                stop += 1
            group_end = ends[stop - 1].end
            self._insert_markdown(self.text.slice(self.committed, group_end))
            work = group_end - self.committed
            self.committed = group_end
            self._next_end = stop
            self.text.trim(self.committed)
            return work
        self._enter_plain(first.fence)
        return 0

    def _insert_markdown(self, text: str) -> None:
        rendered = self.renderer.render(text, code_link=self._code_href, code_base=len(self.codes))
        self.codes.extend(rendered.code_blocks)
        cursor = self._cursor_at(self.tail.position())
        if rendered.html.strip():
            cursor.insertHtml(rendered.html)
            fresh_block(cursor)
        self.tail.setPosition(cursor.position())

    # ------------------------------------------------------------------ the open tail

    def _open_tail(self) -> bool:
        """Show the open tail; True when it switched to plain text (the caller appends)."""
        fence = self.scanner.open_fence
        if fence is not None and fence.start >= self.committed:
            head = fence.start - self.committed
            code_length = self.text.length - fence.code_start
            if head > self.TAIL_MARKDOWN_LIMIT or code_length > self.CODE_HIGHLIGHT_LIMIT:
                self._clear_tail()
                self._enter_plain(fence)
                return True
            if self._mode is _Mode.FENCE and self._fence_cursor is not None:
                done = fence.code_start + self._fence_code_len
                if self.text.length > done:
                    self._fence_cursor.insertText(self.text.slice(done, self.text.length))
                    self._fence_code_len = self.text.length - fence.code_start
                return False
            self._clear_tail()
            cursor = self._cursor_at(self.tail.position())
            if head and self.text.slice(self.committed, fence.start).strip():
                cursor.insertHtml(self.renderer.render(self.text.slice(self.committed, fence.start)).html)
                fresh_block(cursor)
            code = self.text.slice(fence.code_start, self.text.length)
            cursor.insertHtml(self.renderer.render_plain_code(code, fence.info))
            end = QTextCursor(cursor)
            end.movePosition(QTextCursor.MoveOperation.PreviousCharacter)
            if end.currentTable() is not None:
                end.setCharFormat(_monospace(end.charFormat()))
                self._fence_cursor = end
                self._fence_code_len = len(code)
            self._mode = _Mode.FENCE
            return False
        if self.text.length - self.committed > self.TAIL_MARKDOWN_LIMIT:
            self._clear_tail()
            self._enter_plain(None)
            return True
        if self._mode is _Mode.MARKDOWN and self._rendered_length == self.text.length:
            return False
        self._clear_tail()
        tail = self.text.slice(self.committed, self.text.length)
        if tail.strip():
            self._cursor_at(self.tail.position()).insertHtml(self.renderer.render(tail).html)
        self._mode = _Mode.MARKDOWN
        self._rendered_length = self.text.length
        return False

    def _clear_tail(self) -> None:
        cursor = self._cursor_at(self.tail.position())
        cursor.setPosition(self.frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # The block left at the tail's start still belongs to the list the last render made; the next
        # render's first item would join that old list and the rest start a new one ("1." then "1. 2.").
        stale = cursor.currentList()
        if stale is not None:
            stale.remove(cursor.block())
            cursor.setBlockFormat(QTextBlockFormat())
        if self._mode in (_Mode.PLAIN, _Mode.CODE):  # what follows must not inherit the note's format
            cursor.setBlockFormat(QTextBlockFormat())
            cursor.setCharFormat(QTextCharFormat())
        self._fence_cursor = None
        self._fence_code_len = 0
        self._mode = _Mode.NONE
        self._rendered_length = -1

    # ------------------------------------------------------------------ plain text

    def _enter_plain(self, fence: Fence | None) -> None:
        """Show the block from ``committed`` as plain text: a long paragraph, or a long code block."""
        cursor = self._cursor_at(self.tail.position())
        palette = self.renderer.palette
        if fence is not None and fence.start - self.committed <= self.TAIL_MARKDOWN_LIMIT:
            head = self.text.slice(self.committed, fence.start)
            if head.strip():
                rendered = self.renderer.render(head, code_link=self._code_href, code_base=len(self.codes))
                self.codes.extend(rendered.code_blocks)
                cursor.insertHtml(rendered.html)
                fresh_block(cursor)
            self._plain_code_index = len(self.codes)
            label = f"{html.escape(fence.info)} · " if fence.info else ""
            href = html.escape(self._code_href(self._plain_code_index), quote=True)
            cursor.insertHtml(
                f'<p style="margin:0; color:{palette.muted}"><small>{label}long code block: shown as plain '
                f'text, without highlighting · <a href="{href}" title="Copy this code" '
                f'style="text-decoration:none">{COPY_CODE_LABEL}</a></small></p>'
            )
            self._mode = _Mode.CODE
            self._plain_fence = fence
            self.shown = fence.code_start
        else:
            note = "long text: shown as plain text"
            cursor.insertHtml(f'<p style="margin:0; color:{palette.muted}"><small>{note}</small></p>')
            self._mode = _Mode.PLAIN
            self._plain_fence = None
            self.shown = self.committed
        fresh_block(cursor)
        self._plain_block_len = 0
        cursor.setBlockFormat(self._plain_block_format())
        self.plain_blocks += 1

    def _plain_target(self, end: BlockEnd | None) -> tuple[int, int | None]:
        """Where the plain run stops on screen, and where the block is committed (None: not yet known)."""
        if self._mode is _Mode.CODE:
            fence = self._plain_fence
            assert fence is not None
            if end is not None:
                closed = end.fence
                return (closed.code_end if closed is not None else end.end), end.end
            return self.text.length, None
        fence = end.fence if end is not None else self.scanner.open_fence
        if fence is not None and fence.start > self.committed:
            return fence.start, fence.start  # a fence interrupts the paragraph: it gets a block of its own
        if end is not None:
            return end.end, end.end
        return self.text.length, None

    def _held_back(self, stop: int) -> int:
        """While a block is open, keep back an unfinished line that may turn out to be a fence line."""
        line_start = self.scanner.line_start
        if line_start < stop and stop - line_start < 200:
            partial = self.text.slice(line_start, stop).lstrip(" ")
            if not partial or partial[0] in "`~":
                return max(self.shown, line_start)
        return stop

    def _append_plain(self, stop: int, budget: int, *, final: bool) -> int:
        """Append text[shown:stop] (at most ``budget`` characters) as plain blocks; returns the count.

        Trailing whitespace waits for what follows (a block never ends in an empty line); when
        ``final`` (``stop`` ends the block) it is consumed without being shown.
        """
        if stop <= self.shown or budget <= 0:
            return 0
        end = min(stop, self.shown + budget)
        chunk = self.text.slice(self.shown, end)
        visible = chunk.rstrip()
        consumed = end if final and end == stop else self.shown + len(visible)
        if not visible:
            self.shown = consumed
            return len(chunk)
        cursor = QTextCursor(self.document)
        cursor.setPosition(self.frame.lastPosition())
        code = self._mode is _Mode.CODE
        char_format = _monospace(QTextCharFormat()) if code else QTextCharFormat()
        block_format = self._plain_block_format()
        rest = visible.replace("\r\n", "\n")
        while rest:
            room = self.PLAIN_BLOCK_CHARS - self._plain_block_len
            if room <= 0:
                cursor.insertBlock(block_format, char_format)
                self._plain_block_len = 0
                self.plain_blocks += 1
                room = self.PLAIN_BLOCK_CHARS
                if rest.startswith("\n"):  # the block break is the line break
                    rest = rest[1:]
                    continue
            piece = rest[:room]
            if len(rest) > room:
                cut = piece.rfind("\n")
                if cut < room // 2 and not code:
                    cut = piece.rfind(" ")
                if cut >= room // 2:
                    piece = rest[: cut + 1]
                self._plain_block_len = self.PLAIN_BLOCK_CHARS  # full: the next piece starts a block
            else:
                self._plain_block_len += len(piece)
            rest = rest[len(piece) :]
            shown = piece[:-1] if piece.endswith("\n") and rest else piece
            cursor.insertText(shown.replace("\n", _LINE_SEPARATOR), char_format)
        self.shown = consumed
        if self._mode is _Mode.CODE or self.shown - self.committed > self.BLOCK_MARKDOWN_LIMIT:
            self.text.trim(self.shown)  # this block stays plain: what is shown is not needed again
        return len(chunk)

    def _commit_plain(self, commit_at: int, end: BlockEnd | None) -> None:
        if self._mode is _Mode.PLAIN and (
            end is not None and commit_at == end.end and end.end - self.committed <= self.BLOCK_MARKDOWN_LIMIT
        ):
            # A long open paragraph that ended up small enough: it is rendered as Markdown after all.
            self._clear_tail()
            return
        if self._mode is _Mode.CODE:
            fence = end.fence if end is not None else None
            if fence is not None:
                self.codes.append(self.text.full()[fence.code_start : fence.code_end])
        cursor = self._cursor_at(self.frame.lastPosition())
        fresh_block(cursor)
        self.tail.setPosition(cursor.position())
        self.committed = commit_at
        self.shown = commit_at
        if end is not None and commit_at == end.end:
            self._next_end += 1
        self.text.trim(self.committed)
        self._mode = _Mode.NONE
        self._plain_fence = None

    def _plain_block_format(self) -> QTextBlockFormat:
        fmt = QTextBlockFormat()
        fmt.setTopMargin(0)
        fmt.setBottomMargin(0)
        if self._mode is _Mode.CODE:
            fmt.setBackground(QColor(self.renderer.palette.code_background))
        return fmt

    def _cursor_at(self, position: int) -> QTextCursor:
        cursor = QTextCursor(self.document)
        cursor.setPosition(position)
        return cursor


def fresh_block(cursor: QTextCursor) -> None:
    """Start a plain paragraph: not inside the list or quote the previous HTML ended with."""
    cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
    current = cursor.currentList()
    if current is not None:
        current.remove(cursor.block())
    fmt = cursor.blockFormat()
    fmt.setIndent(0)
    fmt.setLeftMargin(0)
    cursor.setBlockFormat(fmt)


def _monospace(fmt: QTextCharFormat) -> QTextCharFormat:
    fmt.setFontFixedPitch(True)
    fmt.setFontFamilies(["monospace"])
    return fmt


__all__ = ["AnswerWriter", "fresh_block"]
