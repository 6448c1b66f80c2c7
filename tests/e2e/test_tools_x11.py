"""Tools end to end on a real X server, as a person meets them: ``mcp.json`` names the real
``mcp-server-time``, the app (its own process, in trayer's tray) connects it, the question is typed
with xdotool, the scripted model asks for the time, the card waits and the approval bar under the
transcript has the keyboard on "Allow once", Return allows it (or Tab, Tab, Return denies it), the real server answers, the final
answer streams — and after a restart the reopened chat draws the same card. Also the tray's Tools ▸.

The app says what happens in its log (tools connected, a card waiting, answered, the answer ended):
every wait watches that log while the app runs, and a failure shows its end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from tests.e2e.conftest import Desktop
from tests.e2e.test_chat_x11 import open_chat
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedCall, ScriptedServer, tool_reply
from tests.support.waiting import tail, wait_for_program, wait_until
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.chat.history_wire import TOOL_CALL_ID, TOOL_CALLS
from trayai.core.paths import AppPaths
from trayai.core.theme import DARK, LIGHT
from trayai.core.tools.config import MCP_FILE_NAME
from trayai.core.tools.policy import refusal_content

TOOL = "time__get_current_time"  # the hub's name for server "time"'s tool, as the model sees it
TOKYO = ScriptedCall(TOOL, '{"timezone": "Asia/Tokyo"}', id="call_tokyo")
QUESTION = "What time is it in Tokyo right now?"
FINAL = "It is **evening** in Tokyo: the clock there says so."
CONNECTED = "tools: time connected, 2 tools"
WAITING = "chat: tool call time/get_current_time waiting for the person"


def write_mcp_json(paths: AppPaths) -> Path:
    """The real ``mcp-server-time`` (this venv's), enabled, as a person's ``mcpServers`` entry."""
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    path = paths.config_dir / MCP_FILE_NAME
    server = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
    path.write_text(json.dumps({"mcpServers": {"time": server}}), encoding="utf-8")
    path.chmod(0o600)
    return path


def app_says(
    app: subprocess.Popen[str], paths: AppPaths, words: str, what: str, *, count: int = 1, timeout: float = 30
) -> None:
    """Wait until the running app's log holds ``words`` ``count`` times (its log's end on failure)."""
    wait_for_program(
        app,
        lambda: log_text(paths).count(words) >= count,
        what,
        lambda: tail(paths.log_dir / "trayai.log"),
        timeout=timeout,
    )


def start_with_tools(desktop: Desktop, app: subprocess.Popen[str], paths: AppPaths, *, run: int = 1) -> None:
    """The tray icon shown and the time server connected (a question typed before would go without)."""
    app_says(app, paths, "startup: tray shown", "the tray icon", count=run)
    app_says(app, paths, CONNECTED, "mcp-server-time connected", count=run, timeout=60)


def ask(desktop: Desktop, question: str) -> None:
    desktop.run("xdotool", "type", "--delay", "20", question)
    desktop.run("xdotool", "key", "Return")


def card_pixels(shot: Path) -> int:
    """Pixels of the screenshot in a tool card's background (light or dark theme): 0 without a card."""
    image = QImage(str(shot))
    assert not image.isNull(), shot
    colours = {int(theme.tool_card.lstrip("#"), 16) for theme in (LIGHT, DARK)}
    return sum(
        image.pixel(x, y) & 0xFFFFFF in colours
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )


def green_pixels(image: QImage, x: int, y: int, width: int, height: int) -> int:
    """Clearly green pixels in a rectangle of ``image`` (state icons: green means ready/connected)."""
    count = 0
    for px in range(x, x + width):
        for py in range(y, y + height):
            rgb = image.pixel(px, py)
            red, green, blue = (rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF
            count += green > red + 60 and green > blue + 30
    return count


def shot_with_card(desktop: Desktop, name: str) -> tuple[Path, int]:
    """A screenshot once a tool card is on the screen, and its card pixels: the app logs before the
    X server shows its paint (seconds later on a loaded machine), so the screen itself is waited on."""
    taken: list[tuple[Path, int]] = []

    def painted() -> bool:
        path = desktop.screenshot(name)
        taken[:] = [(path, card_pixels(path))]
        return taken[0][1] > 2000

    wait_until(painted, timeout=30, what=f"a tool card on the screen ({name})")
    return taken[0]


def tool_message(server: ScriptedServer, request: int) -> dict[str, object]:
    """The last message of the scripted server's ``request``-th chat request: the tool's answer."""
    message = server.chat_requests()[request].json["messages"][-1]
    assert isinstance(message, dict) and message["role"] == "tool", message
    return message


def test_allowed_call_runs_the_real_time_server_and_reopens_the_same(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desktop.start_tray_host()
    write_mcp_json(paths)
    server.script(tool_reply(TOKYO, text="Let me look."), Reply(text=FINAL, rate=40))
    with running_app(desktop, server, paths) as app:
        start_with_tools(desktop, app, paths)
        open_chat(desktop)
        ask(desktop, QUESTION)
        app_says(app, paths, WAITING, "the approval card")
        shot_with_card(desktop, "tools-card-waiting")
        assert len(server.chat_requests()) == 1  # nothing runs before the person says so
        desktop.run("xdotool", "key", "Return")  # the approval bar put the keyboard on "Allow once"
        app_says(app, paths, "answered: once", "Return to allow the call")
        app_says(app, paths, "ended: done", "the final answer")
        _, drawn = shot_with_card(desktop, "tools-answer-done")
        quit_app(desktop, app)

    tools = {entry["function"]["name"] for entry in server.chat_requests()[0].json["tools"]}
    assert tools == {TOOL, "time__convert_time"}
    told = tool_message(server, 1)
    assert told["tool_call_id"] == "call_tokyo"
    result = json.loads(str(told["content"]))  # the real server's answer, as the model got it
    assert result["timezone"] == "Asia/Tokyo" and str(result["datetime"]).endswith("+09:00")
    assert len(server.chat_requests()) == 2

    with HistoryStore.in_dir(paths.data_dir) as history:
        conversation = history.list_conversations()[0]
        messages = history.messages(conversation.id)
    assert [(m.role, m.status) for m in messages] == [
        ("user", MessageStatus.DONE),
        ("assistant", MessageStatus.DONE),
        ("tool", MessageStatus.DONE),
        ("assistant", MessageStatus.DONE),
    ]
    asked, answered = messages[1], messages[2]
    assert asked.content == "Let me look."
    assert [entry["function"]["name"] for entry in asked.meta[TOOL_CALLS]] == [TOOL]
    assert answered.meta[TOOL_CALL_ID] == "call_tokyo" and answered.content == told["content"]
    assert messages[3].content == FINAL

    with running_app(desktop, server, paths) as app:
        app_says(app, paths, "startup: tray shown", "the second start", count=2)
        open_chat(desktop)
        desktop.run("xdotool", "key", "ctrl+f")
        desktop.run("xdotool", "type", "--delay", "20", "evening")
        desktop.run("xdotool", "key", "Return")  # opens the best hit: the final answer
        app_says(app, paths, f"opened conversation {conversation.id}", "the conversation reopened")
        _, again = shot_with_card(desktop, "tools-reopened")
        quit_app(desktop, app)
    assert abs(again - drawn) < 0.05 * drawn, (drawn, again)  # the same card, drawn from history
    assert len(server.chat_requests()) == 2  # reopening asks nothing of the model nor of the tool


def test_denied_from_the_keyboard_tells_the_model(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desktop.start_tray_host()
    write_mcp_json(paths)
    server.script(tool_reply(TOKYO), Reply(text="I could not look it up.", rate=40))
    with running_app(desktop, server, paths) as app:
        start_with_tools(desktop, app, paths)
        open_chat(desktop)
        ask(desktop, QUESTION)
        app_says(app, paths, WAITING, "the approval card")
        desktop.run("xdotool", "key", "Tab", "Tab")  # Allow once → Always for this tool → Deny
        shot_with_card(desktop, "tools-card-deny-focused")
        desktop.run("xdotool", "key", "Return")
        app_says(app, paths, "answered: deny", "Tab, Tab, Return to deny the call")
        app_says(app, paths, "ended: done", "the answer after the refusal")
        shot_with_card(desktop, "tools-denied")
        quit_app(desktop, app)

    told = tool_message(server, 1)
    assert told["tool_call_id"] == "call_tokyo"
    assert told["content"] == refusal_content(TOOL, by_person=True)
    with HistoryStore.in_dir(paths.data_dir) as history:
        messages = history.messages(history.list_conversations()[0].id)
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[2].content == told["content"] and messages[3].content == "I could not look it up."
    assert "Asia/Tokyo" not in messages[2].content  # the tool never ran


def test_tools_menu_in_the_real_tray_shows_the_connected_server(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desktop.start_tray_host()
    write_mcp_json(paths)
    with running_app(desktop, server, paths) as app:
        start_with_tools(desktop, app, paths)
        icons = [w for w in desktop.windows() if w[2] <= 32 and w[3] <= 32 and w[2] > 4]
        assert icons, desktop.windows()
        _, _, w, h, x, y = icons[0]
        desktop.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "3")
        wait_until(lambda: any(win[2] > 150 and win[3] > 150 for win in desktop.windows()), what="the menu")
        menus = {win[0] for win in desktop.windows()}
        desktop.run("xdotool", "key", "t")  # &Tools opens its submenu (the keyboard's hover)

        def submenu() -> tuple[str, str, int, int, int, int] | None:
            return next((win for win in desktop.windows() if win[0] not in menus and win[3] > 30), None)

        found = wait_until(submenu, what="the Tools submenu")
        shot = desktop.screenshot("tray-tools-submenu")
        assert found is not None
        _, _, sub_w, sub_h, sub_x, sub_y = found
        assert sub_w > 100 and sub_h >= 40, found  # the server's row and "Tools settings…"
        # the server's row carries the green "connected" icon (a starting or failed one is not green)
        assert green_pixels(QImage(str(shot)), sub_x, sub_y, sub_w, sub_h) > 20
        desktop.run("xdotool", "key", "Escape", "Escape")
        quit_app(desktop, app)
