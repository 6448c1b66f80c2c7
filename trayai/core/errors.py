"""Every way talking to a model server fails, as a typed error with a one-line message and a hint.

The error tree is in :class:`AppError`; the mapping in docs/architecture.md, "Errors".
"""

from __future__ import annotations

# No openai/httpx2 (the tray starts without them) and no other trayai module but the catalogue
# (which imports only strenum) at import time: urls.py and the others import AppError from here.
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from trayai.core.error_catalog import ERROR_CATALOG, ErrorCode


class _ErrorWords(TypedDict):
    code: str
    message: str
    hint: str


class ErrorRecord(_ErrorWords, total=False):
    """An error as JSON: its code and words always; ``to_dict()`` (``--json``, ``batch``) adds the
    server's detail, the HTTP status and close model names, a chat answer's meta keeps the words."""

    detail: str | None
    status: int | None
    suggestions: list[str]


class AppError(Exception):
    """The root of trayai's own errors: a one-line ``message`` and a ``hint`` saying what to do.

    ``str()`` is the message (subclasses may add the hint, as :class:`HistoryError` does). A front end
    that shows errors catches this one class:

    * AppError                      message + hint (this module)
      + TrayaiError                 talking to a model server failed; ``code`` is an ErrorCode
      + HistoryError                core/chat/history.py: history cannot be read or written (``storage``)
        - ConversationNotFound      no conversation with that id (also a KeyError)
        - MessageNotFound           no message with that id (also a KeyError)
      + ConfigError                 a setting is invalid (core/settings/config.py; also a ValueError)
        - TemplateError             an action's template is empty or has an unknown {name} (core/templates.py)
      + ActionTextMissing           core/actions.py: an action needs text nobody selected, copied or typed
      + HotkeyError                 core/hotkeys.py: a combination cannot be used (also a ValueError)
      + InvalidURLError             core/net/urls.py: not an http(s) base URL (also a ValueError)
      + FileLockedError             core/filelock.py: another process holds the lock
      + DesktopError                core/desktop_entry.py: the menu entry or icons cannot be written/removed
        - DesktopUnsupported        core/desktop_entry.py: no applications-menu integration on this OS yet
      + IconMissing                 ui/icons.py: an icon file of the package is missing or undrawable
      + NoDisplay                   core/display.py: no display server the GUI could open a window on
      + InstanceSocketError         ui/ipc.py: the single-instance socket cannot be made (not: it is taken)
      + CatalogError                core/library/catalog.py: the model catalog is missing or broken
      + GgufError                   core/library/ggufmeta.py: not a readable GGUF file

    The subclasses keep the built-in base they had, so older ``except`` clauses still catch them.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(AppError, ValueError):
    """A user-supplied setting is invalid; ``str()`` is the message to show (core/settings/config.py)."""


class TemplateError(ConfigError):
    """An action's template cannot be used: empty, or a ``{placeholder}`` trayai does not know."""


class TrayaiError(AppError):
    """A failure with a stable ``code``, a one-line ``message`` and an actionable ``hint``.

    Also what an MCP tool server's failure is (``TOOL_*`` codes, trayai/core/tools/).

    ``detail`` keeps the server's own words (never shown without the message); ``status`` is the
    HTTP status when there was one; ``suggestions`` lists close model names for MODEL_* codes.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        hint: str,
        *,
        detail: str | None = None,
        status: int | None = None,
        suggestions: Sequence[str] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.code = code
        self.detail = detail
        self.status = status
        self.suggestions = list(suggestions)
        self.retry_after = retry_after
        self.partial = ""  # text that arrived before a mid-stream failure, when a caller keeps it

    @property
    def keeps_partial(self) -> bool:
        """True for failures that happen mid-reply, where the partial answer must be kept."""
        return self.code in _MID_STREAM

    @property
    def retryable(self) -> bool:
        return self.code not in _NOT_RETRYABLE

    def redacted(self, redact: Callable[[str], str]) -> TrayaiError:
        """A copy with every text passed through ``redact``: a server may echo the API key back in
        the body or stream event this error quotes (see :class:`trayai.core.redact.Redactor`)."""
        copy = TrayaiError(
            self.code,
            redact(self.message),
            redact(self.hint),
            detail=None if self.detail is None else redact(self.detail),
            status=self.status,
            suggestions=[redact(s) for s in self.suggestions],
            retry_after=self.retry_after,
        )
        copy.partial = self.partial
        return copy

    def describe(self) -> str:
        """Message and hint, for terminals and tooltips."""
        return f"{self.message}\n{self.hint}"

    def to_dict(self) -> ErrorRecord:
        return {
            "code": self.code.value,
            "message": self.message,
            "hint": self.hint,
            "detail": self.detail,
            "status": self.status,
            "suggestions": self.suggestions,
        }


_MID_STREAM = {
    ErrorCode.STALLED,
    ErrorCode.ANSWER_TIMEOUT,
    ErrorCode.TOO_LARGE,
    ErrorCode.LENGTH_IGNORED,
    ErrorCode.DISCONNECTED,
    ErrorCode.INTERRUPTED,
    ErrorCode.MALFORMED_STREAM,
    ErrorCode.STREAM_ERROR,
}
_NOT_RETRYABLE = {
    ErrorCode.INVALID_URL,
    ErrorCode.AUTH,
    ErrorCode.FORBIDDEN,
    ErrorCode.MODEL_NOT_FOUND,
    ErrorCode.ENDPOINT_NOT_FOUND,
    ErrorCode.CONTEXT_EXCEEDED,
    ErrorCode.BAD_REQUEST,
    ErrorCode.MODEL_NOT_LOADED,  # until someone loads it: retrying the same request cannot help
    ErrorCode.BUILTIN_UNAVAILABLE,
    ErrorCode.BUILTIN_MODEL_FILE,
    ErrorCode.TOOL_UNAVAILABLE,
    ErrorCode.HUB_GATED,  # until someone grants access and stores a token
    ErrorCode.HUB_NOT_FOUND,
    ErrorCode.CHECKSUM_MISMATCH,  # retrying means a fresh download, which the person decides
    ErrorCode.DISK_FULL,
    ErrorCode.NOT_IN_LIBRARY,
}


def make_error(
    code: ErrorCode, message: str | None = None, hint: str | None = None, **kwargs: Any
) -> TrayaiError:
    """Build an error whose message/hint default to the catalogue's wording."""
    entry = ERROR_CATALOG[code]
    return TrayaiError(code, message or entry.title, hint or entry.fix, **kwargs)
