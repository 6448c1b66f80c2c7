"""Get models ▸ Settings…: the per-model editor round-trips through the settings file, its fit line
follows the context as it changes, Reset to auto empties the entry, a bad template is refused with
nothing saved, and a loaded model is offered "Reload now" (a real window under Xvfb)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from tests.support.ports import free_port
from tests.support.waiting import until
from trayai.core.embedded import EmbeddedServer, bundled_model_path
from trayai.core.library.fit import RUNTIME_OVERHEAD, ModelShape
from trayai.core.library.machine import MachineMemory
from trayai.core.library.model_settings import Machine, ModelFacts
from trayai.core.library.reload import OnDemandServer, Served
from trayai.core.paths import AppPaths
from trayai.core.settings.config import BuiltinServerSettings, ModelSettings, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.ui.library.model_settings_dialog import AUTO_TEMPLATE, ModelSettingsDialog, ModelSettingsSources
from trayai.ui.library.window import LibrarySources, LibraryWindow

GB = 1_000_000_000
FREE = 7_100_000_000
SHAPE = ModelShape(layers=28, kv_heads=8, key_length=128, value_length=128, context_length=40_960)
FACTS = ModelFacts(5 * GB, SHAPE)


def _need(tokens: int) -> str:
    return f"{(5 * GB + tokens * 28 * 8 * 256 * 2 + RUNTIME_OVERHEAD) / 1e9:.1f} GB"


class LoadedServer(OnDemandServer):
    """An on-demand server that has the model loaded, and reloads it when asked (no engine needed)."""

    reloads: list[str]

    def standing(self, name: str) -> Served:
        return Served.LOADED

    def reload(self, name: str, timeout: float) -> float:
        self.reloads.append(name)
        return 0.5


def _dialog(store: ConfigStore, server: OnDemandServer | None = None) -> ModelSettingsDialog:
    sources = ModelSettingsSources(
        store, Machine(FREE, 3, gpu=False), FACTS, server or OnDemandServer(free_port())
    )
    dialog = ModelSettingsDialog("qwen3-8b", sources)
    dialog.show()
    return dialog


def test_the_fit_line_follows_the_context(paths: AppPaths, qloop: Any) -> None:
    dialog = _dialog(ConfigStore(paths))
    assert dialog.context.text() == "auto"
    assert dialog.fit.text() == "auto (16,384 — fits 7.1 GB free)"
    dialog.context.setValue(40_960)
    assert dialog.fit.text() == f"too large (needs ~{_need(40_960)}, 7.1 GB free)"
    dialog.context.setValue(4_096)
    assert dialog.fit.text() == "fits"
    dialog.context.setValue(dialog.context.minimum())
    assert dialog.fit.text().startswith("auto (16,384")
    assert not dialog.gpu_layers.isEnabled()  # a CPU build: GPU layers mean nothing
    assert dialog.gpu_layers.text() == "not used: no GPU in this engine build"
    assert dialog.threads.text() == "auto (3)"
    dialog.close()


def test_the_editor_round_trips_and_reset_to_auto_empties_the_entry(paths: AppPaths, run: Any) -> None:
    store = ConfigStore(paths)

    async def go() -> None:
        dialog = _dialog(store)
        dialog.context.setValue(8_192)
        dialog.threads.setValue(2)
        dialog.template.setCurrentText("chatml")
        dialog.temperature.setValue(0.3)
        dialog.top_k.setValue(20)
        dialog.max_tokens.setValue(512)
        dialog.box.accepted.emit()  # Save: no on-demand server has it loaded, so the editor closes
        await until(lambda: not dialog.isVisible(), what="the editor closed")
        assert dialog.saved == ModelSettings(
            "qwen3-8b",
            context_size=8_192,
            threads=2,
            chat_template="chatml",
            temperature=0.3,
            top_k=20,
            max_tokens=512,
        )
        saved = json.loads(paths.config_file.read_text(encoding="utf-8"))["model_settings"]
        assert saved == [
            {
                "name": "qwen3-8b",
                "context_size": 8_192,
                "threads": 2,
                "chat_template": "chatml",
                "temperature": 0.3,
                "top_k": 20,
                "max_tokens": 512,
            }
        ]
        again = _dialog(store)
        assert (again.context.value(), again.threads.value(), again.template.currentText()) == (
            8_192,
            2,
            "chatml",
        )
        assert (again.temperature.value(), again.top_k.value(), again.max_tokens.value()) == (0.3, 20, 512)
        assert again.top_p.text() == "auto" and again.fit.text() == "fits"
        again.reset_button.click()
        assert again.context.text() == "auto" and again.template.currentText() == AUTO_TEMPLATE
        again.box.accepted.emit()
        await until(lambda: not again.isVisible(), what="the editor closed again")
        assert "model_settings" not in json.loads(paths.config_file.read_text(encoding="utf-8"))

    run(go())


def test_a_bad_template_is_said_and_nothing_is_saved(paths: AppPaths, run: Any, tmp_path: Path) -> None:
    dialog = _dialog(ConfigStore(paths))
    dialog.template.setCurrentText("chatmel")
    assert dialog.problem.isVisible()
    assert "not one of llama.cpp's built-in chat templates" in dialog.problem.text()
    dialog.box.accepted.emit()
    assert dialog.isVisible() and dialog.saved is None
    assert not paths.config_file.exists()
    template = tmp_path / "mine.jinja"
    template.write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    dialog.sources = ModelSettingsSources(
        dialog.sources.store,
        dialog.sources.machine,
        FACTS,
        dialog.sources.server,
        pick_file=lambda _: str(template),
    )
    next(b for b in dialog.findChildren(type(dialog.reset_button)) if b.text() == "File…").click()
    assert dialog.template.currentText() == str(template) and not dialog.problem.isVisible()

    async def save() -> None:
        dialog.box.accepted.emit()
        await until(lambda: not dialog.isVisible(), what="the editor closed")

    run(save())
    assert dialog.saved is not None and dialog.saved.chat_template == str(template)


def test_a_loaded_model_is_offered_reload_now(paths: AppPaths, qloop: Any, run: Any) -> None:
    server = LoadedServer(free_port())
    server.reloads = []
    dialog = _dialog(ConfigStore(paths), server)

    async def go() -> None:
        dialog.temperature.setValue(0.4)  # sampling only: applies to the next request, no reload
        dialog.box.accepted.emit()
        assert not dialog.isVisible() and not dialog.reload_button.isVisible()
        dialog.show()
        dialog.context.setValue(2_048)
        dialog.box.accepted.emit()
        await until(dialog.reload_button.isVisible, what="Reload now offered")
        assert "loaded with its old settings: these apply on its next load" in dialog.note.text()
        dialog.reload_button.click()
        await until(lambda: "Reloaded qwen3-8b" in dialog.note.text(), what="the reload")
        assert server.reloads == ["qwen3-8b"] and not dialog.reload_button.isVisible()

    run(go())
    dialog.close()


def test_a_downloaded_model_has_settings_in_the_library_window(
    paths: AppPaths, qloop: Any, run: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "models"
    store = ConfigStore(paths)
    one_at_a_time = Settings()
    one_at_a_time.builtin_server.on_demand = False  # the editor's note for a server that is not on demand
    store.save(one_at_a_time)
    sources = LibrarySources(
        SecretStore(MemoryKeyring()),
        lambda: folder,
        memory=lambda: MachineMemory(16 * GB, 6 * GB),
        store=store,
        machine=lambda: Machine(FREE, 3, gpu=False),
    )

    async def go() -> None:
        first = LibraryWindow(sources)
        await until(lambda: first.rows, what="the catalog")
        target = first.rows[0].target
        assert not first.rows[0].settings_button.isVisibleTo(first)  # not downloaded yet
        await first.shutdown()
        first.deleteLater()
        bundled = bundled_model_path()
        assert bundled is not None
        folder.mkdir()
        for dest in target.dests(folder):
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(bundled, dest)
            except OSError:
                shutil.copyfile(bundled, dest)
        window = LibraryWindow(sources)
        window.show()
        await until(lambda: window.rows, what="the catalog again")
        row = next(r for r in window.rows if r.target.key == target.key)
        assert row.settings_button.isVisibleTo(window)
        row.settings_button.click()
        await until(
            lambda: window.settings_dialog is not None and window.settings_dialog.isVisible(), what="editor"
        )
        dialog = window.settings_dialog
        assert isinstance(dialog, ModelSettingsDialog)
        assert dialog.name == target.dests(folder)[0].stem
        assert dialog.fit.text() == "auto (8,192 — fits 7.1 GB free)"  # SmolLM2's own header: 8k trained
        assert "runs one model at a time now" in dialog.note.text()  # on_demand turned off above
        dialog.close()
        await window.shutdown()
        window.close()

    run(go())
    QApplication.processEvents()


@pytest.fixture(autouse=True)
def _as_in_the_app(qapp: QApplication, qloop: Any) -> Any:
    """Closing the editor never quits trayai (run_app's setting); no editor outlives its test."""
    qapp.setQuitOnLastWindowClosed(False)
    yield
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, ModelSettingsDialog):
            widget.close()
    qapp.setQuitOnLastWindowClosed(True)


def test_models_on_this_machine_have_settings_and_use_it_now(
    paths: AppPaths, qloop: Any, run: Any, tmp_path: Path
) -> None:
    """A model put in the folder by hand (not from the catalog) and the bundled one are listed under
    "On this machine" from the real built-in server's listing, each with Settings… (under the name the
    server announces it by) and Use it now; a file taken away leaves the list."""
    folder = tmp_path / "models"
    folder.mkdir()
    bundled = bundled_model_path()
    assert bundled is not None
    mine = folder / "my-own-model.gguf"
    try:
        os.link(bundled, mine)
    except OSError:
        shutil.copyfile(bundled, mine)
    store = ConfigStore(paths)
    store.save(Settings())
    server = EmbeddedServer(BuiltinServerSettings(), tmp_path / "server.log", models_dir=folder)
    served: list[str] = []

    async def serve(name: str) -> None:
        served.append(name)

    sources = LibrarySources(
        SecretStore(MemoryKeyring()),
        lambda: folder,
        serve,
        memory=lambda: MachineMemory(16 * GB, 6 * GB),
        store=store,
        machine=lambda: Machine(FREE, 3, gpu=False),
        local_models=server.available_models,
    )

    async def go() -> None:
        window = LibraryWindow(sources)
        window.show()
        await until(lambda: len(window.local.rows) == 2, what="the models on this machine")
        assert [row.model.name for row in window.local.rows] == ["ai/smollm2", "my-own-model"]
        own = window.local.row("my-own-model")
        assert own is not None and own.facts.text().endswith(str(folder))
        assert "comes with trayai" in window.local.rows[0].facts.text()
        own.settings_button.click()
        await until(lambda: window.settings_dialog is not None, what="the editor")
        dialog = window.settings_dialog
        assert isinstance(dialog, ModelSettingsDialog) and dialog.name == "my-own-model"
        dialog.close()
        window.local.rows[0].settings_button.click()  # the bundled model: by its alias
        await until(
            lambda: (
                isinstance(window.settings_dialog, ModelSettingsDialog)
                and window.settings_dialog.name == "ai/smollm2"
            ),
            what="the bundled model's editor",
        )
        assert window.settings_dialog is not None
        window.settings_dialog.close()
        own.use_button.click()
        await until(lambda: own.note.text().startswith("Ready"), what="Use it now")
        assert served == ["my-own-model"]
        window.hide()  # closed: the app keeps the window; a file is dropped in meanwhile
        try:
            os.link(bundled, folder / "later.gguf")
        except OSError:
            shutil.copyfile(bundled, folder / "later.gguf")
        mine.unlink()
        window.show()
        await until(
            lambda: [row.model.name for row in window.local.rows] == ["ai/smollm2", "later"],
            what="the list as the folder is now, on showing the window again",
        )
        assert window.local.rows[0].settings_button.isVisibleTo(window)
        await window.shutdown()
        window.close()
        no_file = LibraryWindow(replace(sources, store=None))  # nothing to save settings to
        await until(lambda: len(no_file.local.rows) == 2, what="the list without a settings file")
        assert not any(row.settings_button.isVisibleTo(no_file) for row in no_file.local.rows)
        await no_file.shutdown()
        no_file.deleteLater()

    run(go())
    QApplication.processEvents()
