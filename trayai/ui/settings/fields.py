"""One editor widget per setting, made from its
:class:`~trayai.core.settings.fields.FieldSpec`: the dialog, the CLI and the docs agree, and a
new setting gets a bounded widget, its unit, what its lowest value means, human labels for its
choices and a tooltip for free.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from trayai.core.settings.fields import FieldSpec, field_spec

INT_LIMIT = 2_147_483_647  # QSpinBox holds a C int
DEFAULT_TEXT = "server default"
SPIN_WIDTH = 170  # numbers are short: a spin box as wide as the form reads as a text field


class FieldEditor:
    """Loads a value into a widget and reads it back, typed as the field wants (None allowed if optional)."""

    def __init__(self, spec: FieldSpec, *, multiline: bool = False, none_text: str = DEFAULT_TEXT) -> None:
        self.spec = spec
        self.optional = spec.optional
        self.widget: QWidget
        low, high = spec.minimum, spec.maximum
        if spec.kind == "bool":
            self.kind = "bool"
            self.widget = QCheckBox()
        elif spec.kind == "int":
            self.kind = "int"
            box = QSpinBox()
            low_i = int(low) if low is not None else 0
            box.setRange(
                low_i - (1 if self.optional else 0),
                min(int(high) if high is not None else INT_LIMIT, INT_LIMIT),
            )
            if self.optional:
                box.setSpecialValueText(none_text)
            elif spec.zero:
                box.setSpecialValueText(spec.zero)  # shown at the lowest value: "automatic"
            self.widget = box
        elif spec.kind == "float":
            self.kind = "float"
            dbox = QDoubleSpinBox()
            dbox.setDecimals(2)
            low_f = float(low) if low is not None else 0.0
            high_f = float(high) if high is not None else 1e9
            dbox.setSingleStep(0.1 if high_f <= 10 else 1.0)
            dbox.setRange(low_f - (0.01 if self.optional else 0.0), high_f)
            if self.optional:
                dbox.setSpecialValueText(none_text)
            elif spec.zero:
                dbox.setSpecialValueText(spec.zero)
            if high_f > 10:  # timeouts and the like: whole numbers read better than 120.00
                dbox.setDecimals(0 if low_f == int(low_f) else 1)
            self.widget = dbox
        elif spec.choices:
            self.kind = "choice"
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(spec.label(choice), choice)  # people read the label, the file keeps the value
            self.widget = combo
        elif multiline:
            self.kind = "text"
            self.widget = QPlainTextEdit()
            self.widget.setMaximumHeight(80)
        else:
            self.kind = "str"
            self.widget = QLineEdit()
        if isinstance(self.widget, (QSpinBox, QDoubleSpinBox)):
            if spec.unit:
                self.widget.setSuffix(f" {spec.unit}")
            self.widget.setMaximumWidth(SPIN_WIDTH)
        self.widget.setObjectName(spec.name)
        tip = spec.description
        unit = f" {spec.unit}" if spec.unit else ""
        if low is not None or high is not None:
            tip += f" ({low if low is not None else '…'} – {high if high is not None else '…'}{unit})"
        self.widget.setToolTip(tip)

    def load(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QSpinBox):
            w.setValue(w.minimum() if value is None else int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(w.minimum() if value is None else float(value))
        elif isinstance(w, QComboBox):
            at = w.findData(str(value))
            w.setCurrentIndex(at if at >= 0 else 0)
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value or ""))
        elif isinstance(w, QLineEdit):
            w.setText(str(value or ""))

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QSpinBox):
            return None if self.optional and w.value() == w.minimum() else w.value()
        if isinstance(w, QDoubleSpinBox):
            return None if self.optional and w.value() == w.minimum() else round(w.value(), 4)
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        assert isinstance(w, QLineEdit)
        return w.text()

    def lock(self, reason: str | None) -> None:
        """Disable with the reason in the tooltip (a value set by the environment is not editable here)."""
        self.widget.setEnabled(reason is None)
        if reason:
            self.widget.setToolTip(f"Set by {reason}; not saved to the settings file.")


def field_of(cls: type[Any], name: str) -> FieldSpec:
    """The spec of setting ``name`` of the settings dataclass ``cls`` (what :class:`FieldEditor` takes)."""
    return field_spec(cls, name)


def label_for(name: str) -> str:
    """``first_token_timeout`` → "First token timeout"."""
    return name.replace("_", " ").capitalize()


def form(parent: QWidget | None = None) -> QFormLayout:
    """A form whose rows put the label above the field when both do not fit side by side."""
    layout = QFormLayout(parent)
    layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return layout


def editor_rows(
    layout: QFormLayout,
    cls: type[Any],
    names: tuple[str, ...],
    multiline: frozenset[str] = frozenset(),
) -> dict[str, FieldEditor]:
    """One labelled editor row per field of ``cls`` in ``names``, added to ``layout``."""
    editors = {name: FieldEditor(field_of(cls, name), multiline=name in multiline) for name in names}
    for name, editor in editors.items():
        layout.addRow(label_for(name), editor.widget)
    return editors


__all__ = ["FieldEditor", "editor_rows", "field_of", "form", "label_for"]
