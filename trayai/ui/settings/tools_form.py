"""The form of one tool server on Settings ▸ Tools: how it starts (a command with its arguments and
environment, or a Streamable HTTP or older SSE URL with headers), whether it is on, its call timeout,
and its tools with a policy each (ask / allow / never) once they are known. It edits a ``ServerDraft``.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from trayai.core.tools.config import KEYCHAIN_REF, MAX_TIMEOUT, ToolPolicy, TransportKind
from trayai.core.tools.listing import ToolInfo
from trayai.ui.settings.tools_drafts import ServerDraft
from trayai.ui.theme import muted_style

KINDS = {
    TransportKind.STDIO: "Command (stdio)",
    TransportKind.HTTP: "URL (Streamable HTTP)",
    TransportKind.SSE: "URL (SSE, older servers)",
}
URL_EXAMPLES = {TransportKind.HTTP: "https://example.com/mcp", TransportKind.SSE: "http://127.0.0.1:3001/sse"}
POLICY_WORDS = {ToolPolicy.ASK: "Ask first", ToolPolicy.ALLOW: "Allow", ToolPolicy.NEVER: "Never"}
BOX_LINES = 3


def _box(placeholder: str, name: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setAccessibleName(name)
    box.setTabChangesFocus(True)
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # one argument or NAME=value per line
    box.setFixedHeight(box.fontMetrics().lineSpacing() * BOX_LINES + 14)
    return box


class ServerForm(QWidget):
    """Shows a draft (``show``) and writes the person's edits back into it (``store``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit()
        self.name.setAccessibleName("Server name")
        self.enabled = QCheckBox("Enabled (the model may use its tools)")
        self.kind = QComboBox()
        for kind, words in KINDS.items():
            self.kind.addItem(words, kind)
        self.kind.setAccessibleName("Transport")
        self.kind.setToolTip(
            "Command: trayai starts the server itself. URL: a server already running — Streamable HTTP "
            "(most, often …/mcp), or SSE for servers made before MCP 2025-03-26 (often …/sse)"
        )
        self.command = QLineEdit()
        self.command.setPlaceholderText("uvx, npx, python…")
        self.command.setAccessibleName("Command")
        self.args = _box("one argument per line (no shell)", "Arguments")
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://example.com/mcp")
        self.url.setAccessibleName("URL")
        self.values = _box("NAME=value, one per line", "Environment")
        self.values_note = QLabel(
            f"Secrets (…KEY, …TOKEN, Authorization) go to the keychain: {KEYCHAIN_REF} keeps one."
        )
        self.values_note.setWordWrap(True)
        self.values_note.setStyleSheet(muted_style())
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1.0, MAX_TIMEOUT)
        self.timeout.setDecimals(0)
        self.timeout.setSuffix(" s per call")
        self.timeout.setAccessibleName("Timeout")
        self.state = QLabel()
        self.state.setObjectName("tool_state")
        self.state.setTextFormat(Qt.TextFormat.PlainText)  # quotes the server
        self.state.setWordWrap(True)
        self.tools = QTableWidget(0, 3)
        self.tools.setObjectName("tool_table")
        self.tools.setHorizontalHeaderLabels(["Tool", "What it does", "When the model calls it"])
        self.tools.verticalHeader().hide()
        self.tools.setWordWrap(True)
        header = self.tools.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tools.setMinimumHeight(120)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Name", self.name)
        self.form.addRow("", self.enabled)
        self.form.addRow("Starts as", self.kind)
        self.form.addRow("Command", self.command)
        self.form.addRow("Arguments", self.args)
        self.form.addRow("URL", self.url)
        self.form.addRow("Environment", self.values)
        self.form.addRow("", self.values_note)
        self.form.addRow("Timeout", self.timeout)
        self.form.addRow("State", self.state)
        self.form.addRow(self.tools)
        self.kind.currentIndexChanged.connect(lambda _index: self._show_kind())
        self._draft: ServerDraft | None = None
        self._tool_names: list[str] = []

    @property
    def draft(self) -> ServerDraft | None:
        return self._draft

    def show_draft(self, draft: ServerDraft | None, tools: Iterable[ToolInfo], state: str) -> None:
        """Show ``draft`` (None: an empty, disabled form), the tools known for it and its state line."""
        self._draft = draft
        self.setEnabled(draft is not None)
        shown = draft or ServerDraft("")
        self.name.setText(shown.name)
        self.enabled.setChecked(shown.enabled)
        self.kind.setCurrentIndex(self.kind.findData(shown.kind))
        self.command.setText(shown.command)
        self.args.setPlainText(shown.args)
        self.url.setText(shown.url)
        self.values.setPlainText(shown.values)
        self.timeout.setValue(shown.timeout)
        self.state.setText(state)
        self._show_kind()
        self._show_tools(shown, list(tools))

    def store(self) -> None:
        """The form's values into the draft it shows."""
        draft = self._draft
        if draft is None:
            return
        draft.name = self.name.text().strip()
        draft.enabled = self.enabled.isChecked()
        draft.kind = TransportKind(self.kind.currentData())
        draft.command = self.command.text()
        draft.args = self.args.toPlainText()
        draft.url = self.url.text()
        draft.values = self.values.toPlainText()
        draft.timeout = float(self.timeout.value())
        for row, tool in enumerate(self._tool_names):
            combo = self.tools.cellWidget(row, 2)
            if isinstance(combo, QComboBox):
                policy = ToolPolicy(combo.currentData())
                if policy is ToolPolicy.ASK:
                    draft.policies.pop(tool, None)  # the default: the file stays short
                else:
                    draft.policies[tool] = policy

    def policy_combo(self, tool: str) -> QComboBox | None:
        """The policy picker of ``tool`` (tests, and keyboard users through the table)."""
        if tool not in self._tool_names:
            return None
        combo = self.tools.cellWidget(self._tool_names.index(tool), 2)
        return combo if isinstance(combo, QComboBox) else None

    def _show_kind(self) -> None:
        kind = TransportKind(self.kind.currentData())
        stdio = kind is TransportKind.STDIO
        self.url.setPlaceholderText(URL_EXAMPLES.get(kind, ""))
        for widget, shown in ((self.command, stdio), (self.args, stdio), (self.url, not stdio)):
            self.form.setRowVisible(widget, shown)
        label = self.form.labelForField(self.values)
        if isinstance(label, QLabel):
            label.setText("Environment" if stdio else "Headers")
        self.values.setAccessibleName("Environment" if stdio else "Headers")

    def _show_tools(self, draft: ServerDraft, tools: list[ToolInfo]) -> None:
        described = {tool.name: tool for tool in tools}
        names = list(described) + sorted(name for name in draft.policies if name not in described)
        self._tool_names = names
        self.tools.setRowCount(len(names))
        for row, name in enumerate(names):
            info = described.get(name)
            label = QTableWidgetItem(name + ("  (read-only)" if info is not None and info.read_only else ""))
            label.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            words = (
                " ".join(info.description.split())
                if info is not None
                else "(not connected: listed by its policy)"
            )
            about = QTableWidgetItem(words[:300] + ("…" if len(words) > 300 else ""))
            about.setToolTip(words[:2000])
            about.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.tools.setItem(row, 0, label)
            self.tools.setItem(row, 1, about)
            combo = QComboBox()
            combo.setAccessibleName(f"Policy of {name}")
            for policy, words_ in POLICY_WORDS.items():
                combo.addItem(words_, policy.value)
            combo.setCurrentIndex(combo.findData(draft.policies.get(name, ToolPolicy.ASK).value))
            self.tools.setCellWidget(row, 2, combo)
        self.tools.setVisible(bool(names))
        self.tools.resizeRowsToContents()


__all__ = ["KINDS", "POLICY_WORDS", "ServerForm"]
