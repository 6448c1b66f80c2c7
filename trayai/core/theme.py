"""The colours trayai draws with, light and dark, and the WCAG contrast they are held to.

Qt-free so a test computes every ratio from the very values the windows use (``ui/theme.py`` turns a
``Theme`` into a QPalette; ``core/chat/render.py`` takes its code and link colours from here). Text
must reach 4.5:1 on what it is drawn on, large text and icons 3:1 (WCAG 2.1 AA).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from trayai.core.strenum import StrEnum

TEXT_MINIMUM = 4.5
LARGE_MINIMUM = 3.0


class Appearance(StrEnum):
    """Settings ▸ Appearance: follow the desktop, or trayai's own light or dark colours."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class Theme:
    """Named colours (``#rrggbb``). The first group becomes the Qt palette; the rest are trayai's own."""

    dark: bool
    window: str
    window_text: str
    base: str
    alternate_base: str
    text: str
    button: str
    button_text: str
    highlight: str
    highlighted_text: str
    link: str
    muted: str  # secondary text: footers, hints, summaries, placeholders
    icon: str  # the bundled monochrome icons (message actions…), drawn in this colour: 3:1 at least
    error: str
    success: str
    card: str  # a message's card
    card_border: str
    user_card: str  # the user's turns: a tinted card, told apart from the answers at a glance
    thinking_background: str  # expanded thinking: its own tinted, bordered box inside the card
    thinking_border: str
    tool_card: str  # a tool call's card: set apart from the answer around it
    tool_border: str
    code_background: str
    code_border: str
    inline_code_background: str
    pygments_style: str

    def pairs(self) -> list[tuple[str, str, float]]:
        """Every (text colour, background, minimum ratio) the windows draw: what the test checks."""
        texts = ("window_text", "muted", "link", "error", "success")
        pairs = [(fg, bg, TEXT_MINIMUM) for bg in ("window", "base", "card") for fg in texts]
        pairs += [
            ("text", "base", TEXT_MINIMUM),
            ("text", "alternate_base", TEXT_MINIMUM),
            ("text", "card", TEXT_MINIMUM),
            ("muted", "alternate_base", TEXT_MINIMUM),
            ("button_text", "button", TEXT_MINIMUM),
            ("highlighted_text", "highlight", TEXT_MINIMUM),
            ("text", "code_background", TEXT_MINIMUM),
            ("text", "inline_code_background", TEXT_MINIMUM),
            ("card_border", "window", LARGE_MINIMUM),  # a card's edge, the error bar's: graphical objects
            ("text", "user_card", TEXT_MINIMUM),
            ("muted", "user_card", TEXT_MINIMUM),
            ("link", "user_card", TEXT_MINIMUM),
            ("error", "user_card", TEXT_MINIMUM),
            ("muted", "thinking_background", TEXT_MINIMUM),
            ("link", "thinking_background", TEXT_MINIMUM),
            ("thinking_border", "card", LARGE_MINIMUM),
            ("thinking_border", "thinking_background", LARGE_MINIMUM),
            ("tool_border", "window", LARGE_MINIMUM),  # a tool card's edge
            ("tool_border", "tool_card", LARGE_MINIMUM),
        ]
        pairs += [(fg, "tool_card", TEXT_MINIMUM) for fg in ("text", "muted", "link", "error", "success")]
        # An icon is a graphical object: 3:1 on everything a message action or a chip sits on.
        pairs += [("icon", bg, LARGE_MINIMUM) for bg in ("window", "base", "card", "user_card", "button")]
        return pairs

    def colour(self, name: str) -> str:
        value = getattr(self, name)
        assert isinstance(value, str)
        return value


LIGHT = Theme(
    dark=False,
    window="#f3f3f3",
    window_text="#1f1f1f",
    base="#ffffff",
    alternate_base="#f6f7f9",
    text="#1f1f1f",
    button="#ececec",
    button_text="#1f1f1f",
    highlight="#2563c9",
    highlighted_text="#ffffff",
    link="#0b5cbf",
    muted="#595959",
    icon="#4f545c",
    error="#b00020",
    success="#17692f",
    card="#ffffff",
    card_border="#8c8c8c",
    user_card="#eef3fb",
    thinking_background="#f4f6fa",
    thinking_border="#7d8696",
    tool_card="#f7f4ec",
    tool_border="#8a7440",
    code_background="#fafafa",
    code_border="#d4d4d4",
    inline_code_background="#ececec",
    pygments_style="default",
)

DARK = Theme(
    dark=True,
    window="#202124",
    window_text="#e8e8e8",
    base="#18191b",
    alternate_base="#25272a",
    text="#e8e8e8",
    button="#303236",
    button_text="#e8e8e8",
    highlight="#2f6bd0",
    highlighted_text="#ffffff",
    link="#7cb8ff",
    muted="#a8a8a8",
    icon="#c2c6cc",
    error="#ff8a8a",
    success="#6fd08c",
    card="#26282b",
    card_border="#6b6e73",
    user_card="#2b3340",
    thinking_background="#1e2024",
    thinking_border="#70788a",
    tool_card="#2c2a25",
    tool_border="#a08a58",
    code_background="#272822",
    code_border="#4a4a4a",
    inline_code_background="#34363a",
    pygments_style="monokai",
)


def for_appearance(appearance: Appearance, *, desktop_dark: bool) -> Theme:
    """trayai's light or dark colours; for SYSTEM, the one matching the desktop's palette."""
    if appearance is Appearance.LIGHT:
        return LIGHT
    if appearance is Appearance.DARK:
        return DARK
    return DARK if desktop_dark else LIGHT


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1.0 to 21.0."""
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_muted(text: str, background: str, minimum: float = TEXT_MINIMUM) -> str:
    """The softest mix of ``text`` into ``background`` that still reaches ``minimum`` — secondary text
    for a desktop's own palette, where ``palette(mid)`` was nearly invisible in dark themes."""
    best = text
    for step in range(1, 20):
        share = step / 20  # how much of the background goes into the mix
        mixed = _mix(text, background, share)
        if contrast(mixed, background) < minimum:
            break
        best = mixed
    return best


def with_desktop(theme: Theme, **colours: str) -> Theme:
    """``theme`` with the desktop's own palette colours put in (System appearance)."""
    known = {f.name for f in fields(Theme) if f.type in ("str", str)}
    changes: dict[str, object] = {k: v for k, v in colours.items() if k in known}
    return replace(theme, **changes)  # type: ignore[arg-type]  # only str fields, checked just above


def _mix(a: str, b: str, share: float) -> str:
    va, vb = a.lstrip("#"), b.lstrip("#")
    parts = [round(int(va[i : i + 2], 16) * (1 - share) + int(vb[i : i + 2], 16) * share) for i in (0, 2, 4)]
    return "#" + "".join(f"{p:02x}" for p in parts)


__all__ = [
    "DARK",
    "LARGE_MINIMUM",
    "LIGHT",
    "TEXT_MINIMUM",
    "Appearance",
    "Theme",
    "contrast",
    "for_appearance",
    "luminance",
    "readable_muted",
    "with_desktop",
]
