"""A message's parts as the transcript draws them: its frame's look, header, body (Markdown for
answers, escaped text and attachment thumbnails for questions), error box, footer and action links.
Model text only ever goes in escaped or through the inert renderer; links are the view's own.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QTextDocument, QTextFrameFormat

from trayai.core.chat.attachments import AttachmentKind
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.chat.render import MarkdownRenderer, plain_text_to_html, reply_footer
from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

COPY_LABEL = "❐&nbsp;Copy"
ACTION_GAP = "&nbsp;&nbsp;&nbsp;"
ARROW_PAD = "\u00a0"  # a no-break space: HTML would fold any other space away


class MessageHtml:
    """Builds a message's HTML with the view's renderer (replaced when light/dark switches) and links."""

    THUMB_WIDTH, THUMB_HEIGHT = 240, 160  # an attached image is shown at most this big

    def __init__(self, renderer: MarkdownRenderer, links: ActionLinks, document: QTextDocument) -> None:
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
                    self._document.addResource(QTextDocument.ResourceType.ImageResource.value, key, thumb)
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

    def _arrow(self, message: StoredMessage, glyph: str, to: int, tip: str) -> str:
        """One arrow of ‹ n/m ›: a link to alternative ``to`` where there is one, else muted text.
        The space goes on the outer side, so the text still reads "‹ 2/3 ›"."""
        style = f"text-decoration:none; font-size:large; letter-spacing:{self.ARROW_SPACING_PX}px"
        text = f"{ARROW_PAD}{glyph}" if glyph == "‹" else f"{glyph}{ARROW_PAD}"
        if 1 <= to <= message.versions:
            href = self._links.href(TranscriptAction.ALTERNATIVE, message.id, to)
            return f'<a href="{href}" title="{tip}" style="{style}">{text}</a>'
        return f'<span style="{style}">{text}</span>'

    def _alternatives(self, message: StoredMessage) -> str:
        """ "‹ 2/3 ›": the slot's answers, the arrows links where there is one to go to."""
        here, count = message.version, message.versions
        back, ahead = self.SWITCH_KEYS
        return (
            f"{self._arrow(message, '‹', here - 1, f'Previous answer ({back})')} {here}/{count} "
            f"{self._arrow(message, '›', here + 1, f'Next answer ({ahead})')}"
        )

    def action(self, kind: TranscriptAction, message_id: int, label: str, tip: str) -> str:
        """One action under a message, drawn as a small button: a glyph and a word, a tooltip."""
        href = self._links.href(kind, message_id)
        return f'<a href="{href}" title="{tip}" style="text-decoration:none">{label}</a>'

    def tail(self, message: StoredMessage) -> str:
        """Error box, footer and action buttons under a message."""
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
        actions = [self.action(TranscriptAction.COPY, message.id, COPY_LABEL, "Copy this message")]
        if message.role == "user":
            actions.append(
                self.action(
                    TranscriptAction.EDIT, message.id, "✎&nbsp;Edit", "Edit and send again (Ctrl+E: the last)"
                )
            )
        if message.role == "assistant" and message.thinking:
            actions.append(
                self.action(
                    TranscriptAction.COPY_THINKING, message.id, "❐&nbsp;Copy thinking", "Copy the thinking"
                )
            )
        if message.role == "assistant" and message.status != MessageStatus.ERROR:
            actions.append(
                self.action(
                    TranscriptAction.REGENERATE,
                    message.id,
                    "↻&nbsp;Regenerate",
                    "Answer again (Ctrl+Shift+R)",
                )
            )
        if message.role == "assistant" and message.versions > 1:
            actions.insert(0, self._alternatives(message))
        footer = reply_footer(message.meta, message.status) if message.role == "assistant" else ""
        line = ACTION_GAP.join(actions)
        if footer:
            line = f"{html.escape(footer)}{ACTION_GAP}{line}"
        out += f'<p style="margin:0; color:{palette.muted}"><small>{line}</small></p>'
        return out


__all__ = ["MessageHtml"]
