"""A message's parts as the transcript draws them: its frame's look, header, body (Markdown for
answers, escaped text and attachment thumbnails for questions), error box, footer and action links.
Model text only ever goes in escaped or through the inert renderer; links are the view's own (the
per-message buttons are message_toolbar.py's widgets over the card, not part of the document).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QTextDocument, QTextFrameFormat

from trayai.core.chat.attachments import AttachmentKind
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.chat.render import MarkdownRenderer, plain_text_to_html, reply_footer
from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

ACTION_GAP = "&nbsp;&nbsp;&nbsp;"
ARROW_PAD = "\u00a0"  # a no-break space: HTML would fold any other space away


class MessageHtml:
    """Builds a message's HTML with the view's renderer (replaced when light/dark switches) and links."""

    THUMB_WIDTH, THUMB_HEIGHT = 240, 160  # an attached image is shown at most this big

    def __init__(
        self, renderer: MarkdownRenderer, links: ActionLinks, document: Callable[[], QTextDocument]
    ) -> None:
        """``document``: the view's document, asked for each time — a kept wrapper dies with the
        first frame that handed it out (shiboken ties ``frame.document()``'s result to the frame)."""
        self.renderer = renderer
        self._links = links
        self._document = document  # thumbnails are registered on it as resources

    CARD_PADDING, CARD_GAP = 10, 6  # inside a card, and between two cards

    def frame_format(self, role: str) -> QTextFrameFormat:
        """A message's card: the theme's card colour and edge; the user's turns in their own tint."""
        theme = self.renderer.palette.theme
        fmt = QTextFrameFormat()
        fmt.setPadding(self.CARD_PADDING)
        fmt.setTopMargin(self.CARD_GAP)
        fmt.setBottomMargin(self.CARD_GAP)
        fmt.setBorder(1)
        fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        fmt.setBorderBrush(QColor(theme.card_border))
        fmt.setBackground(QColor(theme.user_card if role == "user" else theme.card))
        return fmt

    def code_href(self, message_id: int, index: int) -> str:
        return self._links.href(TranscriptAction.COPY_CODE, message_id, index)

    def header(self, message: StoredMessage) -> str:
        who = {"user": "You", "assistant": "Assistant", "system": "System"}.get(message.role, message.role)
        model = message.meta.get("model") if message.role == "assistant" else None
        label = f"{who} · {html.escape(str(model))}" if model else who
        return f'<p style="margin:0"><b>{label}</b></p>'

    def body(self, message: StoredMessage) -> tuple[str, list[str]]:
        """The message's text as HTML, and its code blocks (for Copy code)."""
        if message.role == "user":
            return plain_text_to_html(message.content) + self._attachments(message), []
        if not message.content and message.status == MessageStatus.ERROR:
            return "", []
        rendered = self.renderer.render(message.content, code_link=lambda i: self.code_href(message.id, i))
        return rendered.html, rendered.code_blocks

    def _attachments(self, message: StoredMessage) -> str:
        """The files that went with a question: image thumbnails (trayai's own copies, registered
        as document resources under this view's secret name) and file names."""
        if not message.attachments:
            return ""
        pieces = []
        for index, attachment in enumerate(message.attachments):
            name = html.escape(attachment.label)
            if attachment.kind is AttachmentKind.IMAGE:
                image = QImage(str(attachment.path))
                if not image.isNull():
                    thumb = (
                        image
                        if image.width() <= self.THUMB_WIDTH and image.height() <= self.THUMB_HEIGHT
                        else image.scaled(
                            self.THUMB_WIDTH,
                            self.THUMB_HEIGHT,
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        )
                    )
                    key = self._links.resource_url(message.id, index)
                    self._document().addResource(QTextDocument.ResourceType.ImageResource.value, key, thumb)
                    pieces.append(
                        f'<img src="{key.toString()}" width="{thumb.width()}" height="{thumb.height()}" '
                        f'alt="{name}" title="{name}">'
                    )
                    continue
                pieces.append(f"Image {name} (no longer there)")
            else:
                pieces.append(f"File: {name}")
        muted = self.renderer.palette.muted
        return f'<p style="margin:4px 0 0 0; color:{muted}"><small>{"&nbsp; ".join(pieces)}</small></p>'

    # ‹ and › take at least 24 px each: the glyph between a no-break space and the gap after each
    # character (letter-spacing), so it sits near the middle of what can be clicked.
    ARROW_SPACING_PX = 8
    SWITCH_KEYS = ("Alt+[", "Alt+]")  # desktops keep Ctrl+Alt+←/→ for switching workspaces

    def _arrow(
        self, kind: TranscriptAction, message_id: int, glyph: str, to: int, count: int, tip: str
    ) -> str:
        """One arrow of ‹ n/m ›: a link to alternative (or branch) ``to`` where there is one, else
        muted text. The space goes on the outer side, so the text still reads "‹ 2/3 ›"."""
        style = f"text-decoration:none; font-size:large; letter-spacing:{self.ARROW_SPACING_PX}px"
        text = f"{ARROW_PAD}{glyph}" if glyph == "‹" else f"{glyph}{ARROW_PAD}"
        if 1 <= to <= count:
            href = self._links.href(kind, message_id, to)
            return f'<a href="{href}" title="{tip}" style="{style}">{text}</a>'
        return f'<span style="{style}">{text}</span>'

    def _switcher(self, kind: TranscriptAction, message_id: int, here: int, count: int, noun: str) -> str:
        """ "‹ 2/3 ›": an answer's alternatives or a question's branches, the arrows links where there
        is one to go to."""
        back, ahead = self.SWITCH_KEYS
        keys = "" if kind is TranscriptAction.ALTERNATIVE else " with the question chosen by Alt+↑"
        return (
            f"{self._arrow(kind, message_id, '‹', here - 1, count, f'Previous {noun} ({back}{keys})')} "
            f"{here}/{count} "
            f"{self._arrow(kind, message_id, '›', here + 1, count, f'Next {noun} ({ahead}{keys})')}"
        )

    def action(self, kind: TranscriptAction, message_id: int, label: str, tip: str) -> str:
        """One action in a message's document (Retry in an error box), a glyph and a word, a tooltip."""
        href = self._links.href(kind, message_id)
        return f'<a href="{href}" title="{tip}" style="text-decoration:none">{label}</a>'

    def tail(self, message: StoredMessage) -> str:
        """Error box, footer and ‹ n/m › under a message ("" when it has none: a plain question).

        Copy, Edit, Regenerate and Copy thinking are real buttons over the card instead
        (``message_toolbar.py``), shown on hover and from the keyboard."""
        palette = self.renderer.palette
        out = ""
        error = message.meta.get("error")
        if message.status == MessageStatus.ERROR and isinstance(error, dict):
            text = html.escape(str(error.get("message", "The request failed")))
            hint = html.escape(str(error.get("hint", "")))
            colour = palette.error
            retry = self.action(TranscriptAction.RETRY, message.id, "↻&nbsp;Retry", "Send the question again")
            out += (
                f'<table width="100%" cellpadding="6" cellspacing="0" style="border: 1px solid {colour}">'
                f'<tr><td><span style="color:{colour}"><b>{text}</b></span>'
                f"{'<br>' + hint if hint else ''}"
                f"<br>{retry}</td></tr></table>"
            )
        pieces = []
        if message.role == "assistant":
            footer = reply_footer(message.meta, message.status)
            if footer:
                pieces.append(html.escape(footer))
            if message.versions > 1:
                pieces.append(
                    self._switcher(
                        TranscriptAction.ALTERNATIVE, message.id, message.version, message.versions, "answer"
                    )
                )
        elif message.role == "user" and message.branches > 1:
            pieces.append(
                self._switcher(
                    TranscriptAction.BRANCH, message.id, message.branch, message.branches, "version"
                )
            )
        if pieces:
            out += f'<p style="margin:0; color:{palette.muted}"><small>{ACTION_GAP.join(pieces)}</small></p>'
        return out


__all__ = ["MessageHtml"]
