"""A message's parts as the transcript draws them: its frame's look, header, body (Markdown for
answers, escaped text and attachment thumbnails for questions), error box, footer and action links.
Model text only ever goes in escaped or through the inert renderer; links are the view's own.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette, QTextDocument, QTextFrameFormat

from trayai.core.chat.attachments import AttachmentKind
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.chat.render import MarkdownRenderer, plain_text_to_html, reply_footer
from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction


class MessageHtml:
    """Builds a message's HTML with the view's renderer (replaced when light/dark switches) and links."""

    THUMB_WIDTH, THUMB_HEIGHT = 240, 160  # an attached image is shown at most this big

    def __init__(self, renderer: MarkdownRenderer, links: ActionLinks, document: QTextDocument) -> None:
        self.renderer = renderer
        self._links = links
        self._document = document  # thumbnails are registered on it as resources

    def frame_format(self, role: str, palette: QPalette) -> QTextFrameFormat:
        """A message's frame: padded, the user's tinted (the base colour when the style has no other)."""
        fmt = QTextFrameFormat()
        fmt.setPadding(8)
        fmt.setTopMargin(4)
        fmt.setBottomMargin(4)
        fmt.setBorder(0)
        if role == "user":
            base = palette.color(QPalette.ColorRole.AlternateBase)
            highlight = palette.color(QPalette.ColorRole.Highlight)
            tint = QColor(base)
            if tint == palette.color(QPalette.ColorRole.Base):
                dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
                tint = QColor.fromHslF(highlight.hslHueF(), 0.35, 0.25 if dark else 0.94)
            fmt.setBackground(tint)
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

    def _alternatives(self, message: StoredMessage) -> str:
        """ "‹ 2/3 ›": the slot's answers, the arrows links where there is one to go to."""
        here, count = message.version, message.versions
        back = (
            f'<a href="{self._links.href(TranscriptAction.ALTERNATIVE, message.id, here - 1)}">‹</a>'
            if here > 1
            else "‹"
        )
        ahead = (
            f'<a href="{self._links.href(TranscriptAction.ALTERNATIVE, message.id, here + 1)}">›</a>'
            if here < count
            else "›"
        )
        return f"{back} {here}/{count} {ahead}"

    def tail(self, message: StoredMessage) -> str:
        """Error box, footer and action links under a message."""
        palette = self.renderer.palette
        links = self._links
        out = ""
        error = message.meta.get("error")
        if message.status == MessageStatus.ERROR and isinstance(error, dict):
            text = html.escape(str(error.get("message", "The request failed")))
            hint = html.escape(str(error.get("hint", "")))
            colour = "#ff8080" if palette.dark else "#b00020"
            out += (
                f'<table width="100%" cellpadding="6" cellspacing="0" style="border: 1px solid {colour}">'
                f'<tr><td><span style="color:{colour}"><b>{text}</b></span>'
                f"{'<br>' + hint if hint else ''}"
                f"<br>{links.anchor(TranscriptAction.RETRY, 'Retry', message.id)}</td></tr></table>"
            )
        actions = [links.anchor(TranscriptAction.COPY, "Copy", message.id)]
        if message.role == "user":
            actions.append(links.anchor(TranscriptAction.EDIT, "Edit", message.id))
        if message.role == "assistant" and message.thinking:
            actions.append(links.anchor(TranscriptAction.COPY_THINKING, "Copy thinking", message.id))
        if message.role == "assistant" and message.status != MessageStatus.ERROR:
            actions.append(links.anchor(TranscriptAction.REGENERATE, "Regenerate", message.id))
        if message.role == "assistant" and message.versions > 1:
            actions.insert(0, self._alternatives(message))
        footer = reply_footer(message.meta, message.status) if message.role == "assistant" else ""
        line = " · ".join(actions)
        if footer:
            line = f"{html.escape(footer)} · {line}"
        out += f'<p style="margin:0; color:{palette.muted}"><small>{line}</small></p>'
        return out


__all__ = ["MessageHtml"]
