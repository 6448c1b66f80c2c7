"""Get models ▸ Settings… of a downloaded model: its context, threads, GPU layers (with a GPU build),
chat template and default sampling, each "auto" until set, with the context's fit for this machine
updated as it changes. Saving goes through core/library/model_settings.py (checked whole, merged into
the file as it is now); a loaded model is offered "Reload now" for what applies on its next load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from trayai.core.errors import AppError, ConfigError
from trayai.core.library.model_settings import (
    BUILTIN_TEMPLATES,
    LOAD_FIELDS,
    Machine,
    ModelFacts,
    auto_context,
    changed_on_reload,
    context_at,
    set_values,
    template_problem,
)
from trayai.core.library.reload import OnDemandServer, Served
from trayai.core.settings.config import ModelSettings
from trayai.core.settings.store import ConfigStore
from trayai.core.tasks import TaskOwner
from trayai.ui.library.style import standard_icon, text_style

SP = QStyle.StandardPixmap
AUTO_TEMPLATE = "auto (the model's own)"
MAX_CONTEXT, MAX_TOKENS = 1_048_576, 1_000_000


@dataclass(frozen=True)
class ModelSettingsSources:
    """What the editor reads and drives: the settings file, the machine and model figures measured
    before it opened (off the UI thread), the on-demand server to reload through, the reload's patience."""

    store: ConfigStore
    machine: Machine
    facts: ModelFacts
    server: OnDemandServer
    startup_timeout: float = 120.0
    on_demand: bool = True  # the built-in server serves the library on demand (else these wait for it)
    pick_file: Callable[[QWidget], str] | None = None  # the template file chooser (tests pass their own)


def _auto_spin(low: int, high: int, auto: str, suffix: str, step: int = 1) -> QSpinBox:
    """A spin box whose lowest value (one below ``low``) reads ``auto``."""
    spin = QSpinBox()
    spin.setRange(low - 1, high)
    spin.setSingleStep(step)
    spin.setSpecialValueText(auto)
    spin.setSuffix(suffix)
    spin.setAccelerated(True)
    spin.setGroupSeparatorShown(high >= 10_000)  # 32,768 tokens, as the fit line writes it
    spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
    return spin


def _auto_double(high: float, step: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setDecimals(2)
    spin.setRange(-step, high)
    spin.setSingleStep(step)
    spin.setSpecialValueText("auto")
    spin.setToolTip("auto: the request's own value, else the engine's")
    return spin


class ModelSettingsDialog(QDialog):
    """One model's settings. ``saved`` holds the entry after a successful Save."""

    def __init__(self, name: str, sources: ModelSettingsSources, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.sources = sources
        self.tasks = TaskOwner()
        self.saved: ModelSettings | None = None
        self.setWindowTitle(f"Settings for {name} — trayai")
        self.setModal(True)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>{name}</b> on the on-demand server: “auto” is chosen for this machine when it loads. "
            "Context, threads, GPU layers and template apply on its next load; sampling defaults fill in "
            "what a request does not set."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        layout.addLayout(form)

        self.context = _auto_spin(256, MAX_CONTEXT, "auto", " tokens", step=1024)
        self.context.setAccessibleName("context size")
        self.context.valueChanged.connect(self._show_fit)
        self.fit = QLabel()
        self.fit.setObjectName("fitLine")
        self.fit.setWordWrap(True)
        context_box = QVBoxLayout()
        context_box.setSpacing(2)
        context_box.addWidget(self.context)
        context_box.addWidget(self.fit)
        form.addRow("Context:", context_box)

        self.threads = _auto_spin(1, 512, f"auto ({sources.machine.threads})", " threads")
        form.addRow("Threads:", self.threads)
        self.gpu_layers = _auto_spin(0, 1000, "auto (the engine's choice)", " layers")
        self.gpu_layers.setEnabled(sources.machine.gpu)
        if not sources.machine.gpu:
            self.gpu_layers.setSpecialValueText("not used: no GPU in this engine build")
            self.gpu_layers.setToolTip("The installed engine is a CPU build: every layer runs on the CPU")
        form.addRow("GPU layers:", self.gpu_layers)

        self.template = QComboBox()
        self.template.setEditable(True)
        self.template.addItem(AUTO_TEMPLATE)
        self.template.addItems(BUILTIN_TEMPLATES)
        self.template.setToolTip("One of llama.cpp's built-in templates, or a Jinja template file")
        self.template.currentTextChanged.connect(self._check)
        browse = QPushButton("File…")
        browse.setIcon(standard_icon(self, SP.SP_DialogOpenButton))
        browse.setAutoDefault(False)
        browse.setToolTip("Use a Jinja chat template file")
        browse.clicked.connect(self._browse)
        template_row = QHBoxLayout()
        template_row.addWidget(self.template, 1)
        template_row.addWidget(browse)
        form.addRow("Chat template:", template_row)

        self.temperature = _auto_double(2.0, 0.05)
        form.addRow("Temperature:", self.temperature)
        self.top_p = _auto_double(1.0, 0.05)
        form.addRow("Top p:", self.top_p)
        self.top_k = _auto_spin(0, 1000, "auto", " tokens")
        form.addRow("Top k:", self.top_k)
        self.min_p = _auto_double(1.0, 0.01)
        form.addRow("Min p:", self.min_p)
        self.repeat_penalty = _auto_double(5.0, 0.05)
        form.addRow("Repeat penalty:", self.repeat_penalty)
        self.max_tokens = _auto_spin(1, MAX_TOKENS, "auto", " tokens", step=256)
        form.addRow("Max tokens:", self.max_tokens)

        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.note = QLabel()
        self.note.setObjectName("reloadNote")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)

        buttons = QHBoxLayout()
        self.reset_button = QPushButton("Reset to auto")
        self.reset_button.setIcon(standard_icon(self, SP.SP_DialogResetButton))
        self.reset_button.setToolTip("Every value back to auto (Save keeps it)")
        self.reset_button.setAutoDefault(False)
        self.reset_button.clicked.connect(self.reset_to_auto)
        self.reload_button = QPushButton("Reload now")
        self.reload_button.setIcon(standard_icon(self, SP.SP_BrowserReload))
        self.reload_button.setToolTip(f"Unload {name} and load it again with these settings")
        self.reload_button.setAutoDefault(False)
        self.reload_button.clicked.connect(self.reload_now)
        self.reload_button.hide()
        self.box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.box.accepted.connect(self.save)
        self.box.rejected.connect(self.reject)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.reload_button)
        buttons.addStretch(1)
        buttons.addWidget(self.box)
        layout.addLayout(buttons)
        self.restyle()
        self.show_entry(sources.store.load().settings.model_entry(name))
        if not sources.on_demand:
            self._say_note(
                "The built-in server runs one model at a time now: these apply once it serves the library "
                "on demand (Settings ▸ Built-in server ▸ On demand)."
            )

    # ------------------------------------------------------------------ values

    def show_entry(self, entry: ModelSettings) -> None:
        """The editors set to ``entry``'s values (auto where it has none)."""
        for spin, value in (
            (self.context, entry.context_size),
            (self.threads, entry.threads),
            (self.gpu_layers, entry.gpu_layers),
            (self.top_k, entry.top_k),
            (self.max_tokens, entry.max_tokens),
        ):
            spin.setValue(spin.minimum() if value is None else value)
        for double, number in (
            (self.temperature, entry.temperature),
            (self.top_p, entry.top_p),
            (self.min_p, entry.min_p),
            (self.repeat_penalty, entry.repeat_penalty),
        ):
            double.setValue(double.minimum() if number is None else number)
        self.template.setCurrentText(entry.chat_template or AUTO_TEMPLATE)
        self._show_fit()

    def values(self) -> dict[str, object]:
        """Every setting as the editors show it (None: auto)."""

        def whole(spin: QSpinBox) -> int | None:
            return None if spin.value() == spin.minimum() else spin.value()

        def number(spin: QDoubleSpinBox) -> float | None:
            return None if spin.value() == spin.minimum() else round(spin.value(), spin.decimals())

        template = self.template.currentText().strip()
        return {
            "context_size": whole(self.context),
            "threads": whole(self.threads),
            "gpu_layers": whole(self.gpu_layers) if self.sources.machine.gpu else None,
            "chat_template": "" if template in ("", AUTO_TEMPLATE) else template,
            "temperature": number(self.temperature),
            "top_p": number(self.top_p),
            "top_k": whole(self.top_k),
            "min_p": number(self.min_p),
            "repeat_penalty": number(self.repeat_penalty),
            "max_tokens": whole(self.max_tokens),
        }

    def reset_to_auto(self) -> None:
        self.show_entry(ModelSettings(self.name))
        self._check()

    def _show_fit(self) -> None:
        """The context's fit, live: "auto (8,192 — fits 7.1 GB free)", "fits", "too large (…)"."""
        facts, free = self.sources.facts, self.sources.machine.free
        value = self.context.value()
        choice = (
            auto_context(facts, free) if value == self.context.minimum() else context_at(facts, value, free)
        )
        self.fit.setText(choice.words if choice.auto else choice.fit_words)
        self.fit.setStyleSheet(text_style("muted" if choice.fits else "error"))

    def _check(self) -> None:
        """A template that cannot be used is said at once (Save says it again and stays)."""
        template = self.values()["chat_template"]
        problem = template_problem(str(template)) if template else None
        self._say_problem(problem)

    def _say_problem(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    def _browse(self) -> None:
        pick = self.sources.pick_file or _pick_template_file
        chosen = pick(self)
        if chosen:
            self.template.setCurrentText(chosen)

    # ------------------------------------------------------------------ save and reload

    def save(self) -> None:
        """Checked whole, then merged into the file as it is now; a loaded model is offered a reload."""
        changes = self.values()
        before = self.sources.store.load().settings.model_entry(self.name)
        try:
            updated = self.sources.store.update(lambda settings: set_values(settings, self.name, changes))
        except (ConfigError, OSError) as exc:
            self._say_problem(exc.message if isinstance(exc, ConfigError) else f"Could not save: {exc}")
            return
        self._say_problem(None)
        self.saved = updated.value
        changed = [key for key in changed_on_reload(before, updated.value) if key in LOAD_FIELDS]
        if not changed:
            self.accept()
            return
        self.tasks.exclusive("standing", self._offer_reload())

    async def _offer_reload(self) -> None:
        standing = await asyncio.to_thread(self.sources.server.standing, self.name)
        if standing is not Served.LOADED:
            self.accept()
            return
        self._say_note(f"Saved. {self.name} is loaded with its old settings: these apply on its next load.")
        self.reload_button.show()
        self.reload_button.setFocus()

    def reload_now(self) -> None:
        self.reload_button.setEnabled(False)
        self._say_note(f"Reloading {self.name}…")
        self.tasks.exclusive("reload", self._reload())

    async def _reload(self) -> None:
        try:
            took = await asyncio.to_thread(
                self.sources.server.reload, self.name, self.sources.startup_timeout
            )
        except AppError as exc:
            self._say_note(exc.message, "error")
            self.reload_button.setEnabled(True)
            return
        self.reload_button.hide()
        self._say_note(f"Reloaded {self.name} with these settings in {took:.1f} s.", "success")

    def _say_note(self, text: str, kind: str = "muted") -> None:
        self.note.setText(text)
        self.note.setStyleSheet(text_style(kind))
        self.note.show()

    # ------------------------------------------------------------------ look

    def restyle(self) -> None:
        self.problem.setStyleSheet(text_style("error"))
        self._show_fit()

    def done(self, result: int) -> None:
        """Closing stops what it waits for (a reload's load goes on in the server); it may open again."""
        for task in self.tasks.live():
            task.cancel()
        super().done(result)


def _pick_template_file(parent: QWidget) -> str:
    chosen, _ = QFileDialog.getOpenFileName(
        parent, "Chat template file", "", "Jinja templates (*.jinja *.j2 *.txt);;All files (*)"
    )
    return chosen


__all__ = ["ModelSettingsDialog", "ModelSettingsSources"]
