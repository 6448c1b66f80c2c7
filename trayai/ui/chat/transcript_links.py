"""The app's own links in a transcript (Copy, Retry, Edit, ‹ n/m ›…): addresses that carry a secret
token made per view, so text a model writes — which cannot know the token — never makes one of them.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from PySide6.QtCore import QUrl

from trayai.core.strenum import StrEnum

ACTION_SCHEME = "trayai"


class TranscriptAction(StrEnum):
    """The app's own links under and inside messages: the closed set a view emits (anything else in
    an ``ACTION_SCHEME`` link is ignored) and its owner handles from a table."""

    COPY = "copy"
    COPY_CODE = "copycode"
    COPY_THINKING = "copythinking"
    EDIT = "edit"
    RETRY = "retry"
    REGENERATE = "regenerate"
    ALTERNATIVE = "alt"
    BRANCH = "branch"  # ‹ n/m › on an edited question: the index is the branch to show
    LATEST = "latest"
    EARLIER = "earlier"  # handled by the view: "load earlier messages"
    THINKING = "thinking"  # handled by the view: expand or collapse the thinking
    TOOL_RESULT = "toolresult"  # handled by the view: show or hide a tool card's result


@dataclass(frozen=True)
class ActionLink:
    """A clicked link of ours: what to do, to which message, and the code block or alternative
    index (-1 when it has none)."""

    kind: TranscriptAction
    message_id: int
    index: int


class ActionLinks:
    """Makes and checks one view's action links (``trayai:<token>/<kind>/<id>[/<index>]``)."""

    def __init__(self) -> None:
        self._token = secrets.token_hex(16)  # model text cannot guess it: see parse()

    @property
    def token(self) -> str:
        """This view's secret (in every link and resource name it makes)."""
        return self._token

    def href(self, kind: TranscriptAction, message_id: int = 0, index: int | None = None) -> str:
        """The address of one of the app's own links, with this view's secret token."""
        suffix = f"/{index}" if index is not None else ""
        return f"{ACTION_SCHEME}:{self._token}/{kind}/{message_id}{suffix}"

    def anchor(self, kind: TranscriptAction, text: str, message_id: int = 0, index: int | None = None) -> str:
        """``<a>`` to one of the app's own actions; ``text`` is the app's own words (not escaped)."""
        return f'<a href="{self.href(kind, message_id, index)}">{text}</a>'

    def parse(self, url: QUrl) -> ActionLink | None:
        """The action of an ``ACTION_SCHEME`` link this view made; None for anything else (no token
        or another one, e.g. "trayai:retry/1" written by the model; a kind never written; no number)."""
        parts = url.path().split("/")
        if len(parts) < 3 or not hmac.compare_digest(parts[0].encode(), self._token.encode()):
            return None
        try:
            return ActionLink(
                TranscriptAction(parts[1]), int(parts[2]), int(parts[3]) if len(parts) > 3 else -1
            )
        except ValueError:
            return None

    def resource_url(self, message_id: int, index: int) -> QUrl:
        """The document resource name of an attachment's thumbnail (secret too: not guessable)."""
        return QUrl(f"attachment:{self._token}/{message_id}/{index}")


__all__ = ["ACTION_SCHEME", "ActionLink", "ActionLinks", "TranscriptAction"]
