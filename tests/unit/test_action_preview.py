"""The quick prompt's chip: which text an action will use, said before it runs."""

from __future__ import annotations

from trayai.core.actions import action_preview
from trayai.core.settings.config import DEFAULT_ACTIONS, Action


def test_the_chip_says_what_an_action_will_use() -> None:
    explain = next(a for a in DEFAULT_ACTIONS if a.name == "Explain")
    long = "Photosynthesis converts light energy into chemical energy stored in glucose"
    assert action_preview(explain, selection=long) == "Explain · ‘Photosynthesis converts light energy in…’"
    assert action_preview(explain, clipboard="  two\nlines ") == "Explain · the clipboard · ‘two lines’"
    assert action_preview(explain) == "Explain · select or copy text first"
    assert action_preview(None, selection="x") == "‘x’"


def test_a_clipboard_or_typing_action_says_so() -> None:
    paste = Action(name="Reply", key=7, template="Answer this mail: {clipboard}")
    assert (
        action_preview(paste, selection="ignored", clipboard="Hi Bob") == "Reply · the clipboard · ‘Hi Bob’"
    )
    assert action_preview(paste) == "Reply · copy text first"
    typed = Action(name="Ask", key=8, template="{input}")
    assert action_preview(typed) == "Ask · what you type"
