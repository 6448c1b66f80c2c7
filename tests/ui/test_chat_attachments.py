"""Attachments in the chat window: dropped, pasted and chosen files; what is sent (OpenAI content
parts) to the scripted server; limits and refusals said in place; the copies kept user-only."""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_chat_window import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture


def png(path: Path, colour: str = "#3366cc") -> Path:
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path))
    return path


def dropped(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def test_dropped_text_and_image_go_as_content_parts(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\nline two\n")
    picture = png(tmp_path / "chart.png")
    assert rig.window.attach_tray.add_mime(dropped(notes, picture))
    assert rig.window.attach_tray.isVisible() and len(rig.window.attach_tray.pending) == 2
    server.script(Reply(text="A blue chart and two lines."))
    type_and_enter(qtbot, rig, "What is in these?")
    run(rig.wait_reply(1))
    content = server.chat_requests()[-1].json["messages"][-1]["content"]
    assert content[0]["type"] == "text"
    assert content[0]["text"] == "File: notes.txt\n```\nline one\nline two\n```\n\nWhat is in these?"
    url = content[1]["image_url"]["url"]
    assert content[1]["type"] == "image_url" and url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == picture.read_bytes()
    assert not rig.window.attach_tray.isVisible() and rig.window.attach_tray.pending == []
    text = rig.text()
    assert "File: notes.txt (18 B)" in text
    doc = rig.window.transcript.document()
    cid = rig.controller.conversation_id
    assert cid is not None
    question = rig.history.messages(cid)[0]
    assert [a.name for a in question.attachments] == ["notes.txt", "chart.png"]
    for attachment in question.attachments:
        assert stat.S_IMODE(attachment.path.stat().st_mode) == 0o600  # the copies are user-only
    key = QUrl(f"attachment:{rig.window.transcript.links.token}/{question.id}/1")
    thumbnail = doc.resource(QTextDocument.ResourceType.ImageResource.value, key)
    assert isinstance(thumbnail, QImage) and thumbnail.width() == 64  # shown, never fetched
    # The next turn sends the same parts again (history is the source).
    server.script(Reply(text="Yes."))
    type_and_enter(qtbot, rig, "Sure?")
    run(rig.wait_reply(2))
    assert server.chat_requests()[-1].json["messages"][0]["content"][1]["type"] == "image_url"


def test_too_large_and_binary_files_are_refused_with_why(
    rig: Rig,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    big = tmp_path / "big.log"
    big.write_text("x" * 300_000)
    blob = tmp_path / "program.bin"
    blob.write_bytes(b"\x7fELF\x00\x00binary")
    messages: list[str] = []
    rig.window.attach_tray.refused.connect(messages.append)
    rig.window.attach_tray.add_mime(dropped(big, blob))
    assert rig.window.attach_tray.pending == []
    assert messages[0].startswith("big.log is 300 KB: too large to attach.")
    assert "looks like a binary file" in messages[1]
    assert rig.window.statusBar().currentMessage() == messages[1]


def test_a_pasted_image_becomes_an_attachment(
    rig: Rig,  # noqa: F811 - the fixture
) -> None:
    mime = QMimeData()
    image = QImage(20, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("#ff0000"))
    mime.setImageData(image)
    rig.window.prompt.insertFromMimeData(mime)
    assert [a.name for a in rig.window.attach_tray.pending] == ["pasted image.png"]
    assert rig.window.prompt.toPlainText() == ""
    text = QMimeData()
    text.setText("just text")
    rig.window.prompt.insertFromMimeData(text)
    assert rig.window.prompt.toPlainText() == "just text"


def test_a_model_that_cannot_see_is_refused_before_sending(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
) -> None:
    server.props = {"modalities": {"vision": False}, "default_generation_settings": {"n_ctx": 4096}}
    rig.window.attach_tray.add_mime(dropped(png(tmp_path / "cat.png")))
    type_and_enter(qtbot, rig, "What animal is this?")
    outcome = run(rig.wait_reply(1))
    assert outcome.error is not None and outcome.error.code.value == "unsupported"
    assert "cannot see images (its server says so)" in rig.text()
    assert server.chat_requests() == []


def test_a_refusal_after_an_image_says_the_image_is_the_likely_cause(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
) -> None:
    rig.window.attach_tray.add_mime(dropped(png(tmp_path / "cat.png")))
    server.script(Reply(status=400, error_message="image input is not supported"))
    type_and_enter(qtbot, rig, "What animal is this?")
    outcome = run(rig.wait_reply(1))
    assert outcome.error is not None and "this model may not accept images" in outcome.error.hint


def test_the_attach_button_opens_a_file_dialog_that_adds_the_chosen(
    rig: Rig,  # noqa: F811 - the fixture
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    from PySide6.QtWidgets import QFileDialog

    code = tmp_path / "main.py"
    code.write_text("print('hi')\n")
    qtbot.mouseClick(rig.window.attach_tray.button, Qt.MouseButton.LeftButton)
    dialog = rig.window.findChild(QFileDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # open(), never a blocking exec()
    dialog.filesSelected.emit([str(code)])
    assert [a.name for a in rig.window.attach_tray.pending] == ["main.py"]
    chip = next(b for b in rig.window.attach_tray.findChildren(QToolButton) if "main.py" in b.text())
    rig.window.grab().save(
        str(Path(__file__).resolve().parents[1] / "artifacts" / "chat-attachment-chips.png")
    )
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)  # a chip removes its file
    assert rig.window.attach_tray.pending == []
    dialog.close()
