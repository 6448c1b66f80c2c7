"""The chat's server · model picker drawn: grouped by server, states shown, a down server greyed."""

from __future__ import annotations

from PySide6.QtWidgets import QWidgetAction
from pytestqt.qtbot import QtBot

from trayai.core.net.backends.records import ModelState
from trayai.core.picker import PickerChoice, PickerModel, picker_servers
from trayai.core.status import ServerState
from trayai.ui.chat.server_model_picker import OTHER_MODEL, ServerModelPicker

SERVERS = picker_servers(
    [("local", "127.0.0.1:8080"), ("ollama", "box:11434")],
    {"local": ServerState.READY, "ollama": ServerState.UNREACHABLE},
    {
        "local": (PickerModel("ai/smollm2", ModelState.LOADED), PickerModel("qwen3")),
        "ollama": (PickerModel("llama3.2"),),
    },
    "local",
)


def test_the_menu_lists_every_server_with_its_models(qtbot: QtBot) -> None:
    picker = ServerModelPicker()
    qtbot.addWidget(picker)
    picker.show_servers(SERVERS, PickerChoice("local", "ai/smollm2"))
    assert picker.text() == "ai/smollm2 · local" and not picker.icon().isNull()
    actions = picker.menu_.actions()
    headings = [a.text() for a in actions if isinstance(a, QWidgetAction)]
    assert headings == ["local — ready · 127.0.0.1:8080", "ollama — unreachable · box:11434"]
    texts = [a.text().strip() for a in actions if not a.isSeparator() and not isinstance(a, QWidgetAction)]
    assert texts == [
        "ai/smollm2 — loaded",
        "qwen3",
        OTHER_MODEL,
        "can't be reached now (unreachable)",
        "llama3.2",
        OTHER_MODEL,
    ]
    by_text = {a.text().strip(): a for a in actions}
    assert by_text["ai/smollm2 — loaded"].isChecked()
    assert not by_text["llama3.2"].isEnabled()  # a down server's models cannot be picked


def test_choosing_a_model_says_so_and_updates_the_button(qtbot: QtBot) -> None:
    picker = ServerModelPicker()
    qtbot.addWidget(picker)
    picker.show_servers(SERVERS, PickerChoice("local", "ai/smollm2"))
    qwen = next(a for a in picker.menu_.actions() if a.text().strip() == "qwen3")
    with qtbot.waitSignal(picker.chosen) as signal:
        qwen.trigger()
    assert signal.args == [PickerChoice("local", "qwen3")]
    assert picker.text() == "qwen3 · local"
    other = next(a for a in picker.menu_.actions() if a.text().strip() == OTHER_MODEL and a.isEnabled())
    with qtbot.waitSignal(picker.type_requested) as typed:
        other.trigger()
    assert typed.args == ["local"]
