"""Replace selection on a real X server: text selected in another program's line edit, a rewrite
action run on it from the quick prompt, the Replace button pressed — the line edit then holds the
answer (typed in by a real Ctrl+V through XTEST) and the clipboard holds what it held before.

Why: the whole point of a rewrite action is to put the text back where it came from; offscreen Qt has
no other windows, no X focus and no paste, so only a real X server shows this works.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Desktop
from tests.e2e.test_actions_x11 import trayai
from tests.e2e.test_prompt_x11 import PROMPT_TITLE, focused_window_name
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths

TYPO = "teh cat sat on teh mat"
FIXED = "The cat sat on the mat."
BEFORE = "what the person had copied"
EDITOR = """
import sys
from PySide6.QtGui import QClipboard
from PySide6.QtWidgets import QApplication, QLineEdit
app = QApplication(sys.argv[:1])
edit = QLineEdit(sys.argv[1])
edit.setWindowTitle("Editor")
edit.resize(420, 40)
clip = app.clipboard()
# X11: the clipboard and PRIMARY set as a person's copy and drag would; Wayland takes them only from
# real input, so there the test copies with a real Ctrl+C and no second argument is given.
preset = len(sys.argv) > 2
if preset:
    clip.setText(sys.argv[2], QClipboard.Mode.Clipboard)
edit.textChanged.connect(lambda text: print("text:", text, flush=True))
clip.dataChanged.connect(lambda: print("clip:", clip.text(QClipboard.Mode.Clipboard), flush=True))
edit.show()
if preset:
    edit.activateWindow()
    edit.selectAll()
    clip.setText(edit.selectedText(), QClipboard.Mode.Selection)
print("ready", flush=True)
app.exec()
"""


class Editor:
    """Another program (Python source ``program`` run with ``args``) with a line edit; every line it
    prints (its text, its clipboard) is collected."""

    def __init__(self, env: dict[str, str], program: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", program, *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, line: str) -> bool:
        return line in self.lines

    def stop(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=5)


@pytest.fixture
def editor(desktop: Desktop) -> Iterator[Editor]:
    running = Editor(desktop.env, EDITOR, TYPO, BEFORE)
    yield running
    running.stop()


def test_replace_puts_the_rewrite_into_the_other_window_and_the_clipboard_back(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths, editor: Editor
) -> None:
    server.script(Reply(text=FIXED))
    wait_until(lambda: focused_window_name(desktop) == "Editor", what="the editor with the keyboard")
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "hotkey Ctrl+Alt+Space registered" in log_text(paths), what="the app")
        done = trayai(desktop, "prompt", "--action", "Fix grammar")  # a desktop key binding runs it
        assert done.returncode == 0, done.stderr
        wait_until(lambda: "action 'Fix grammar' run (selection)" in log_text(paths), what="the action")
        wait_until(lambda: "quick prompt: answer ended: done" in log_text(paths), what="the answer")
        assert server.chat_requests()[-1].json["messages"][-1]["content"].endswith(TYPO)
        assert editor.lines == []  # nothing touched the editor or its clipboard before the click
        wait_until(lambda: focused_window_name(desktop) == PROMPT_TITLE, what="the prompt with the keyboard")
        desktop.screenshot("quick-prompt-rewrite-x11")
        desktop.run("xdotool", "key", "alt+r")  # Replace selection, pressed as a person would
        wait_until(lambda: editor.said(f"text: {FIXED}"), what=f"the editor's text replaced ({editor.lines})")
        wait_until(lambda: editor.said(f"clip: {BEFORE}"), what=f"the clipboard put back ({editor.lines})")
        assert editor.lines.index(f"text: {FIXED}") < editor.lines.index(f"clip: {BEFORE}")
        assert focused_window_name(desktop) == "Editor"  # the keyboard is where the text is
        log = log_text(paths)
        assert "replace: the paste key was sent (xtest)" in log and "the clipboard was put back" in log
        quit_app(desktop, app)
