"""Quick prompt actions on a real X server: the X11 PRIMARY selection (which offscreen Qt lacks),
`trayai prompt --action` as a desktop key binding runs it, and the number key in the empty box."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.conftest import Desktop
from tests.e2e.test_prompt_x11 import PROMPT_TITLE, focused_window_name
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths

SELECTED = "The mitochondria is the powerhouse of the cell."
COPIED = "Something else, on the clipboard."
OWNER = """
import sys
from PySide6.QtGui import QClipboard, QGuiApplication
app = QGuiApplication(sys.argv[:1])
app.clipboard().setText(sys.argv[1], QClipboard.Mode.Selection)
app.clipboard().setText(sys.argv[2], QClipboard.Mode.Clipboard)
print("owned", flush=True)
app.exec()
"""


@pytest.fixture
def select_text(desktop: Desktop) -> Iterator[Callable[[str, str], None]]:
    """Another X client that selects ``text`` (PRIMARY) and copies ``copied`` (CLIPBOARD), and keeps
    serving both, as an editor with a selection does."""
    procs: list[subprocess.Popen[str]] = []

    def select(text: str, copied: str) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-c", OWNER, text, copied], env=desktop.env, text=True, stdout=subprocess.PIPE
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "owned"

    yield select
    for proc in procs:
        proc.kill()
        proc.communicate(timeout=5)


def trayai(desktop: Desktop, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayai.cli", *argv],
        env=desktop.env,
        timeout=20,
        capture_output=True,
        text=True,
    )


def test_an_action_runs_on_the_x11_selection_from_a_key_binding_and_a_number_key(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths, select_text: Callable[[str, str], None]
) -> None:
    select_text(SELECTED, COPIED)
    server.script(Reply(text="It makes the cell's energy."), Reply(text="- Mitochondria: energy."))
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "hotkey Ctrl+Alt+Space registered" in log_text(paths), what="the app")
        done = trayai(desktop, "prompt", "--action", "Explain")  # what a desktop key binding runs
        assert done.returncode == 0, done.stderr
        wait_until(lambda: "action 'Explain' run (selection)" in log_text(paths), what="the action")
        wait_until(lambda: "quick prompt: answer ended: done" in log_text(paths), what="the answer")
        desktop.screenshot("quick-prompt-action")
        assert server.chat_requests()[-1].json["messages"][-1]["content"] == (
            f"Explain this clearly and briefly:\n\n{SELECTED}"  # the selection, not the clipboard
        )
        wrong = trayai(desktop, "prompt", "--action", "Explian")
        assert wrong.returncode == 1 and "actions: 'Explain', 'Summarise'" in wrong.stderr
        # the number key in the (empty) box, typed as a person would
        wait_until(
            lambda: focused_window_name(desktop) == PROMPT_TITLE,
            what=f"focus on the prompt (focus: {focused_window_name(desktop)!r})",
        )
        desktop.run("xdotool", "key", "2")
        wait_until(lambda: "action 'Summarise' run (selection)" in log_text(paths), what="key 2")
        wait_until(lambda: log_text(paths).count("answer ended: done") == 2, what="the second answer")
        assert server.chat_requests()[-1].json["messages"] == [
            {"role": "user", "content": f"Summarise this in a few bullet points:\n\n{SELECTED}"}
        ]
        quit_app(desktop, app)


def test_select_text_press_the_hotkey_then_the_explain_key(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths, select_text: Callable[[str, str], None]
) -> None:
    """What a person does: select text in another window, the global hotkey, then 1 (Explain)."""
    select_text(SELECTED, COPIED)
    server.script(Reply(tokens=["It ", "makes ", "the ", "cell's ", "energy."], rate=50))
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "hotkey Ctrl+Alt+Space registered" in log_text(paths), what="the app")
        desktop.run("xdotool", "key", "ctrl+alt+space")  # the global hotkey, pressed for real
        wait_until(
            lambda: focused_window_name(desktop) == PROMPT_TITLE,
            what=f"the quick prompt with focus (focus: {focused_window_name(desktop)!r})",
        )
        desktop.run("xdotool", "key", "1")  # Explain, in the empty box
        wait_until(lambda: "action 'Explain' run (selection)" in log_text(paths), what="the Explain action")
        wait_until(lambda: "quick prompt: answer ended: done" in log_text(paths), what="the streamed answer")
        desktop.screenshot("quick-prompt-explain-by-hotkey")
        assert server.chat_requests()[-1].json["messages"] == [
            {"role": "user", "content": f"Explain this clearly and briefly:\n\n{SELECTED}"}
        ]
        quit_app(desktop, app)
