"""Every text colour trayai draws, contrast-checked in light and dark (WCAG 2.1 AA), from the values used."""

from __future__ import annotations

import pytest
from pygments.styles import get_style_by_name
from pygments.token import Error, Whitespace

from trayai.core.chat.render import Palette
from trayai.core.theme import (
    DARK,
    LIGHT,
    TEXT_MINIMUM,
    Appearance,
    Theme,
    contrast,
    for_appearance,
    readable_muted,
)

THEMES = {"light": LIGHT, "dark": DARK}


@pytest.mark.parametrize("name", THEMES)
def test_every_text_colour_reaches_its_minimum(name: str) -> None:
    theme = THEMES[name]
    low = [
        f"{fg} on {bg}: {contrast(theme.colour(fg), theme.colour(bg)):.2f} < {minimum}"
        for fg, bg, minimum in theme.pairs()
        if contrast(theme.colour(fg), theme.colour(bg)) < minimum
    ]
    assert low == []


@pytest.mark.parametrize("name", THEMES)
def test_highlighted_code_is_readable_on_its_background(name: str) -> None:
    theme = THEMES[name]
    style = get_style_by_name(theme.pygments_style)
    low = [
        f"{token} #{st['color']}: {contrast('#' + st['color'], theme.code_background):.2f}"
        for token, st in style
        if st["color"] and token not in Whitespace and token not in Error
        if contrast("#" + st["color"], theme.code_background) < TEXT_MINIMUM
    ]
    assert low == []


@pytest.mark.parametrize("dark", [False, True])
def test_the_renderer_draws_with_the_theme(dark: bool) -> None:
    palette, theme = Palette(dark=dark), DARK if dark else LIGHT
    assert palette.code_background == theme.code_background and palette.muted == theme.muted
    assert palette.link == theme.link and palette.pygments_style == theme.pygments_style


def test_the_ratio_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-fails grey
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "base"), [("#000000", "#ffffff"), ("#ffffff", "#2b2b2b"), ("#eff0f1", "#31363b")]
)
def test_muted_text_for_a_desktop_palette_stays_readable_and_softer(text: str, base: str) -> None:
    muted = readable_muted(text, base)
    assert contrast(muted, base) >= TEXT_MINIMUM
    assert muted != text and contrast(muted, base) < contrast(text, base)


def test_system_follows_the_desktop_and_the_others_do_not() -> None:
    assert for_appearance(Appearance.SYSTEM, desktop_dark=True) is DARK
    assert for_appearance(Appearance.SYSTEM, desktop_dark=False) is LIGHT
    assert for_appearance(Appearance.LIGHT, desktop_dark=True) is LIGHT
    assert for_appearance(Appearance.DARK, desktop_dark=False) is DARK
    assert isinstance(LIGHT, Theme)
