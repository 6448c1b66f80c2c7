"""An answer that just finished streaming looks exactly like the same answer reopened (issue 25, slip 1).

Why: the view renders finished Markdown blocks as they arrive; a blank line between list items ended
a block, so "1. 2. 3." streamed as "1." and then a second list "1. 2." — correct only after reopening.
The document of the streamed answer is compared with the reopened one's, as Markdown (list numbers,
nesting, code and tables show there) and as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_chat_window import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture

ANSWERS = {
    "loose list": "Steps:\n\n1. Open the lid.\n\n2. Pour the water.\n\n3. Close it again.\n\nDone.",
    "nested list": "- fruit\n  - apple\n\n  - pear\n\n- vegetables\n\n  1. leek\n\n  2. kale\n\nEnd.",
    "list with code": "1. Install:\n\n   ```bash\n   pip install x\n   ```\n\n2. Run it:\n\n   ```bash\n   x --go\n   ```\n\nThat is all.",
    "table and code": "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n```python\nprint('hi')\n```\n\n1. one\n\n2. two",
}


def _normalised(html: str) -> str:
    """The document's HTML without the per-view link secret (two views of one text differ only there)."""
    return re.sub(r"trayai:[^\"']*", "trayai:…", html)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_a_streamed_answer_looks_like_the_reopened_one(
    name: str,
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    text = ANSWERS[name]
    # A few characters at a time, slowly enough that the view flushes between list items.
    tokens = [text[i : i + 3] for i in range(0, len(text), 3)]
    server.script(Reply(tokens=tokens, rate=150))
    type_and_enter(qtbot, rig, "show me")
    run(rig.wait_reply(1))
    streamed = rig.window.transcript.document()
    streamed_md, streamed_html = streamed.toMarkdown(), _normalised(streamed.toHtml())
    cid = rig.controller.conversation_id
    assert cid is not None
    rig.window.new_conversation()
    rig.window.open_conversation(cid)
    reopened = rig.window.transcript.document()
    assert streamed_md == reopened.toMarkdown()
    assert streamed_html == _normalised(reopened.toHtml())


def test_a_list_is_numbered_right_while_it_streams(qtbot: QtBot) -> None:
    """Live too: the open tail re-rendered into a block the last render's list still owned made
    "1." and a new "1. 2."; and a blank line between items ended the list's block."""
    from trayai.core.chat.history_records import MessageStatus, StoredMessage
    from trayai.core.chat.render import BlockScanner
    from trayai.ui.chat.transcript import TranscriptView

    scanner = BlockScanner()
    scanner.feed("1. one\n\n2. two\n\n")
    assert scanner.finished == []  # the list may go on: nothing of it is final yet
    scanner.feed("after\n")
    assert [end.end for end in scanner.finished] == [len("1. one\n\n2. two\n\n")]

    view = TranscriptView()
    qtbot.addWidget(view)
    text = ANSWERS["loose list"]
    view.begin_stream(StoredMessage(1, 1, 1, "assistant", "", MessageStatus.STREAMING, {}))
    for start in range(0, len(text), 6):
        view.add_delta(text[start : start + 6])
        view.flush()
        shown = view.document().toMarkdown()
        numbers = re.findall(r"(?m)^(\d+)\.  ", shown)
        assert numbers == [str(n) for n in range(1, len(numbers) + 1)], shown
