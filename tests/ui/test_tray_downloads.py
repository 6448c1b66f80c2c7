"""Downloads in the tray: started in Get models… against the loopback Hugging Face, they show in the real
tooltip and QMenu ("Downloading … 43 % · 12.1 MB/s · …", "+1 queued") while the window is closed, a
line opens the window again, and each end is said once in a notice — done, or failed with why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction

from tests.support.fake_hub import FakeHub, Faults, synthetic_gguf
from tests.support.waiting import until
from trayai.core.embedded import bundled_model_path
from trayai.core.settings.config import Settings
from trayai.ui.app import TrayApp
from trayai.ui.library.downloads import Phase
from trayai.ui.library.window import LibraryWindow

SMALL = "qwen3-0.6b"  # served as the SmolLM2 file (98 MB) at 20 MB/s: its progress is watched
OTHER = "llama-3.2-1b"  # served with a flipped byte: it fails its checksum


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
            monkeypatch.delenv(name, raising=False)
        yield fake


def download_items(app: TrayApp) -> list[str]:
    app.tray.refresh_menu()
    return [action.text() for action in app.tray.menu.actions() if action.objectName() == "download"]


def open_library(app: TrayApp) -> QAction:
    app.tray.refresh_menu()
    item = next(a for a in app.tray.menu.actions() if a.objectName() == "library")
    item.trigger()
    return item


def test_a_download_shows_in_the_tray_with_the_window_closed_and_each_end_is_said_once(
    hub: FakeHub, make_app: Any, run: Any, tmp_path: Path
) -> None:
    settings = Settings()
    settings.builtin_server.models_dir = str(tmp_path / "models")
    app = make_app(settings)
    notices: list[tuple[str, str]] = []
    app.library.notice.connect(lambda title, text: notices.append((title, text)))

    async def go() -> None:
        assert download_items(app) == [] and "Downloading" not in app.tray.tooltip
        open_library(app)
        window = app.library.window
        assert isinstance(window, LibraryWindow)
        await until(lambda: window.rows, 20, "the catalog judged")
        small = next(r for r in window.rows if r.pick.model.name == SMALL)
        other = next(r for r in window.rows if r.pick.model.name == OTHER)
        bundled = bundled_model_path()
        assert bundled is not None
        hub.add_repo(small.target.repo, dict.fromkeys(small.target.paths, bundled))
        hub.add_repo(other.target.repo, {p: synthetic_gguf(3_000_000, 7) for p in other.target.paths})
        for path in small.target.paths:
            hub.fault(small.target.repo, path, Faults(rate=20_000_000))
        for path in other.target.paths:
            hub.fault(other.target.repo, path, Faults(flip_at=1_000))
        small_name = Path(small.target.file_name).stem
        other_name = Path(other.target.file_name).stem

        small.controls.get_button.click()
        window.close()  # the download goes on, and shows in the tray
        assert not window.isVisible()
        await until(
            lambda: (items := download_items(app)) and "%" in items[0] and "/s" in items[0],
            15,
            "the running download's progress in the menu",
        )
        assert download_items(app)[0].startswith(f"Downloading {small_name} ")
        open_library(app)
        other.controls.get_button.click()  # queued behind the running one
        window.close()
        await until(lambda: len(download_items(app)) == 2, 10, "+1 queued")
        lines = download_items(app)
        assert lines[0].startswith(f"Downloading {small_name} ") and lines[1] == "+1 queued"
        assert f"Downloading {small_name} " in app.tray.tooltip and "+1 queued" in app.tray.tooltip

        next(a for a in app.tray.menu.actions() if a.objectName() == "download").trigger()
        assert window.isVisible()  # a download line opens Get models…, where it is
        window.close()

        await until(lambda: window.downloads.count == 0, 25, "both downloads to end")
        assert window.downloads is app.library.downloads  # the app's, shared with the window
        assert window.downloads.status(small.target).phase is Phase.DONE
        assert window.downloads.status(other.target).phase is Phase.FAILED
        assert notices == [
            (
                f"Downloaded {small_name}",
                f"{small_name} is in the models folder and checked against the repository's sha256: "
                "ready to use.",
            ),
            (
                f"Download of {other_name} failed",
                notices[1][1],
            ),
        ]
        assert notices[1][1].startswith("The file does not match the repository's checksum")
        assert "quarantined" in notices[1][1]
        assert app.tray.last_message == notices[1]  # the tray said it
        assert download_items(app) == [] and "Downloading" not in app.tray.tooltip

    run(go())
