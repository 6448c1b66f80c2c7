"""Settings ▸ Appearance in the running app: the palette the widgets get is the checked theme's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from trayai.core.theme import DARK, LARGE_MINIMUM, LIGHT, TEXT_MINIMUM, Appearance, contrast
from trayai.ui.chat.error_bar import ErrorBar
from trayai.ui.theme import AppearanceKeeper, current_theme, muted_style


@pytest.fixture
def keeper(qapp: QApplication) -> Iterator[AppearanceKeeper]:
    saved, style = QPalette(qapp.palette()), qapp.style().name()
    yield AppearanceKeeper(qapp)
    QApplication.setStyle(style)
    qapp.setPalette(saved)


def test_dark_then_light_then_back_to_the_desktop(qapp: QApplication, keeper: AppearanceKeeper) -> None:
    desktop = qapp.palette().color(QPalette.ColorRole.Window).name()
    keeper.apply(Appearance.DARK)
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == DARK.window
    assert qapp.palette().color(QPalette.ColorRole.PlaceholderText).name() == DARK.muted
    assert current_theme() is DARK and DARK.muted in muted_style()
    keeper.apply(Appearance.LIGHT)
    assert qapp.palette().color(QPalette.ColorRole.Text).name() == LIGHT.text
    assert current_theme() is LIGHT
    keeper.apply(Appearance.SYSTEM)
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == desktop


def test_the_desktops_own_palette_gets_readable_muted_text(
    qapp: QApplication, keeper: AppearanceKeeper
) -> None:
    palette = QPalette(qapp.palette())
    palette.setColor(QPalette.ColorRole.Window, "#31363b")  # Breeze Dark, as a desktop would set it
    palette.setColor(QPalette.ColorRole.WindowText, "#eff0f1")
    qapp.setPalette(palette)
    theme = current_theme()
    assert theme.dark and theme.window == "#31363b"
    assert contrast(theme.muted, theme.window) >= TEXT_MINIMUM  # palette(mid) here gave about 1.5:1


@pytest.mark.parametrize("appearance", [Appearance.LIGHT, Appearance.DARK])
def test_the_error_bars_edge_is_visible_and_follows_the_theme(
    qapp: QApplication, keeper: AppearanceKeeper, appearance: Appearance
) -> None:
    """The chat's error bar and server banner: their edge reaches 3:1 on the window (palette(mid) gave
    about 1.5:1 in dark), and a bar built in one theme redraws its edge when the appearance changes."""
    other = Appearance.LIGHT if appearance is Appearance.DARK else Appearance.DARK
    keeper.apply(other)
    bar = ErrorBar("edge-check")
    try:
        keeper.apply(appearance)
        qapp.sendPostedEvents()
        theme = current_theme()
        assert theme is (DARK if appearance is Appearance.DARK else LIGHT)
        assert bar.border() == theme.card_border and f"solid {theme.card_border};" in bar.styleSheet()
        assert contrast(bar.border(), theme.window) >= LARGE_MINIMUM
    finally:
        bar.deleteLater()
