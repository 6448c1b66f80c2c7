"""Files added to a question: text and code inlined as context, images sent as OpenAI ``image_url``
content parts. Copies live in the data folder (user-only) so history keeps them; sizes are bounded
and every refusal says why and what to do.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trayai.core.errors import AppError
from trayai.core.net.wire import Content, ContentPart, TextPart
from trayai.core.paths import ensure_private_dir
from trayai.core.strenum import StrEnum

MAX_TEXT_BYTES = 200_000  # a text or code file inlined into the question (~50k tokens)
MAX_IMAGE_BYTES = 10_000_000
MAX_PER_MESSAGE = 8
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
IMAGE_TOKENS = 800  # what an image costs in the context window, for trimming (servers vary)


class AttachmentKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"


class AttachmentError(AppError):
    """A file that cannot be attached, and why."""


@dataclass(frozen=True)
class Attachment:
    """One attached file as stored: ``path`` is trayai's own copy in the data folder."""

    kind: AttachmentKind
    name: str
    mime: str
    path: Path
    size: int

    @property
    def label(self) -> str:
        return f"{self.name} ({_size(self.size)})"


def _size(size: int) -> str:
    return (
        f"{size} B"
        if size < 1000
        else f"{size / 1000:.0f} KB"
        if size < 1_000_000
        else f"{size / 1e6:.1f} MB"
    )


class AttachmentStore:
    """The attachments folder: adds copies, reads them back, forgets the ones no message uses."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add_file(self, source: Path) -> Attachment:
        """Check and copy ``source``; raises :class:`AttachmentError` with the reason."""
        try:
            size = source.stat().st_size
            if not source.is_file():
                raise AttachmentError(f"{source.name} is not a file.", "Attach a text, code or image file.")
        except OSError as exc:
            raise AttachmentError(
                f"{source.name} cannot be read: {exc.strerror}.", "Check the file."
            ) from exc
        mime = IMAGE_TYPES.get(source.suffix.lower())
        limit = MAX_IMAGE_BYTES if mime else MAX_TEXT_BYTES
        if size > limit:
            kind = "An image" if mime else "A text file"
            raise AttachmentError(
                f"{source.name} is {_size(size)}: too large to attach.",
                f"{kind} may be up to {_size(limit)}"
                + ("; paste the part that matters instead." if not mime else "; make it smaller first."),
            )
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise AttachmentError(
                f"{source.name} cannot be read: {exc.strerror}.", "Check the file."
            ) from exc
        return self.add_bytes(source.name, data, mime)

    def add_bytes(self, name: str, data: bytes, mime: str | None = None) -> Attachment:
        """Store ``data`` (a pasted image, a dropped file) under a name of trayai's own."""
        if mime is None:
            if b"\x00" in data[:8192]:
                raise AttachmentError(
                    f"{name} looks like a binary file, not text.",
                    "Attach text or code files, or PNG/JPEG/GIF/WebP images.",
                )
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise AttachmentError(
                    f"{name} is not UTF-8 text.", "Save it as UTF-8 and attach it again."
                ) from exc
            if len(data) > MAX_TEXT_BYTES:
                raise AttachmentError(f"{name} is too large to attach.", f"Up to {_size(MAX_TEXT_BYTES)}.")
        elif len(data) > MAX_IMAGE_BYTES:
            raise AttachmentError(f"{name} is too large to attach.", f"Up to {_size(MAX_IMAGE_BYTES)}.")
        ensure_private_dir(self.folder)
        suffix = next((ext for ext, m in IMAGE_TYPES.items() if m == mime), ".txt") if mime else ".txt"
        path = self.folder / f"{secrets.token_hex(12)}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        kind = AttachmentKind.IMAGE if mime else AttachmentKind.TEXT
        return Attachment(kind, name, mime or "text/plain", path, len(data))

    def text(self, attachment: Attachment) -> str:
        try:
            return attachment.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(the attached file {attachment.name} is no longer there)"

    def data_url(self, attachment: Attachment) -> str | None:
        try:
            raw = attachment.path.read_bytes()
        except OSError:
            return None
        return f"data:{attachment.mime};base64,{base64.b64encode(raw).decode('ascii')}"

    def forget_unused(self, used: Iterable[Path]) -> int:
        """Delete copies no message refers to any more (after deletes, edits, purges)."""
        keep = {p.name for p in used}
        removed = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.iterdir():
            if path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed


def message_content(text: str, attachments: Sequence[Attachment], store: AttachmentStore) -> Content:
    """A user message as sent: text files inlined before the question; images as content parts."""
    files = [a for a in attachments if a.kind is AttachmentKind.TEXT]
    images = [a for a in attachments if a.kind is AttachmentKind.IMAGE]
    inlined = "".join(f"File: {a.name}\n```\n{store.text(a).rstrip()}\n```\n\n" for a in files)
    question = inlined + text
    if not images:
        return question
    lead: TextPart = {"type": "text", "text": question}
    parts: list[ContentPart] = [lead]
    for image in images:
        url = store.data_url(image)
        if url is None:
            lead["text"] += f"\n\n(the attached image {image.name} is no longer there)"
        else:
            parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts
