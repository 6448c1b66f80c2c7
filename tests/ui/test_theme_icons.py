"""The chat buttons' icons: every bundled fallback exists and draws, in a colour that reaches 3:1 on
light and dark cards, and the desktop theme's own icon is used when its palette is the one shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QIcon, QImage
from PySide6.QtWidgets import QApplication

from trayai.core.theme import DARK, LARGE_MINIMUM, LIGHT, contrast, with_desktop
from trayai.ui.icons import icons_dir
from trayai.ui.theme_icons import ICONS, ButtonIcon, bundled_icon, button_icon, render_bundled


def _ink(image: QImage) -> tuple[str, int]:
    """The colour of the most opaque pixel and how many pixels are drawn at all."""
    best, drawn, colour = -1, 0, "#000000"
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if pixel.alpha() > 0:
                drawn += 1
                if pixel.alpha() > best:
                    best, colour = pixel.alpha(), pixel.name()
    return colour, drawn


@pytest.mark.parametrize("name", list(ButtonIcon))
def test_every_fallback_exists_and_draws_readably_in_light_and_dark(
    qapp: QApplication, name: ButtonIcon
) -> None:
    path = icons_dir() / ICONS[name].fallback
    assert path.is_file(), path
    assert 'viewBox="0 0 24 24"' in path.read_text(encoding="utf-8")  # drawn on the 24×24 grid
    for theme in (LIGHT, DARK):
        image = render_bundled(name, theme.icon, 24)
        colour, drawn = _ink(image)
        assert drawn > 24, (name, "nearly nothing drawn")
        assert colour == theme.icon  # recoloured: monochrome in the theme's icon colour
        for background in (theme.card, theme.user_card, theme.window):
            assert contrast(colour, background) >= LARGE_MINIMUM, (name, theme.dark, background)
        assert not bundled_icon(name, theme.icon).pixmap(48, 48).isNull()


def test_an_unreadable_fallback_is_named(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "copy.svg").write_text("<svg><not closed", encoding="utf-8")
    monkeypatch.setattr("trayai.ui.theme_icons.icons_dir", lambda: tmp_path)
    with pytest.raises(OSError, match=r"copy\.svg"):
        render_bundled(ButtonIcon.COPY, "#000000", 24)


def test_the_desktop_theme_icon_is_used_with_the_desktops_palette(qapp: QApplication, tmp_path: Path) -> None:
    theme_dir = tmp_path / "fake-theme"
    (theme_dir / "scalable" / "actions").mkdir(parents=True)
    (theme_dir / "index.theme").write_text(
        "[Icon Theme]\nName=fake-theme\nDirectories=scalable/actions\n\n"
        "[scalable/actions]\nSize=24\nMinSize=8\nMaxSize=512\nType=Scalable\n",
        encoding="utf-8",
    )
    (theme_dir / "scalable" / "actions" / "edit-copy.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><rect width="24" height="24"/></svg>',
        encoding="utf-8",
    )
    paths, name = QIcon.themeSearchPaths(), QIcon.themeName()
    QIcon.setThemeSearchPaths([str(tmp_path)])
    QIcon.setThemeName("fake-theme")
    try:
        desktop = with_desktop(LIGHT, window="#fbfbfb", window_text="#101010")
        assert button_icon(ButtonIcon.COPY, desktop).name() == "edit-copy"  # the theme's own
        # trayai's own light or dark palette: its own icons, drawn to suit it.
        own = button_icon(ButtonIcon.COPY, DARK)
        assert own.name() == "" and own.cacheKey() == bundled_icon(ButtonIcon.COPY, DARK.icon).cacheKey()
        # An icon the theme lacks: the bundled one, in the desktop palette's icon colour.
        assert button_icon(ButtonIcon.EDIT, desktop).name() == ""
    finally:
        QIcon.setThemeSearchPaths(paths)
        QIcon.setThemeName(name)
