"""Hotkey combinations: one parser, one spelling per consumer (display, X11, pynput, the portal).

Forgiving about case, spaces and synonyms (Control, Cmd, Win…); strict, with a reason, about what cannot work.
"""

from __future__ import annotations

from dataclasses import dataclass

from trayai.core.errors import AppError

MODIFIER_ORDER = ("ctrl", "alt", "shift", "super")
_MODIFIER_NAMES = {
    "ctrl": "ctrl", "control": "ctrl", "ctl": "ctrl", "strg": "ctrl",
    "alt": "alt", "option": "alt", "opt": "alt", "altgr": "alt",
    "shift": "shift",
    "super": "super", "win": "super", "windows": "super", "meta": "super", "cmd": "super",
    "command": "super", "logo": "super",
}  # fmt: skip
_MODIFIER_DISPLAY = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "super": "Super"}

# Named keys: canonical name → (display, X11 keysym name, pynput name)
_NAMED_KEYS: dict[str, tuple[str, str, str]] = {
    "space": ("Space", "space", "space"),
    "return": ("Return", "Return", "enter"),
    "tab": ("Tab", "Tab", "tab"),
    "escape": ("Esc", "Escape", "esc"),
    "backspace": ("Backspace", "BackSpace", "backspace"),
    "delete": ("Del", "Delete", "delete"),
    "insert": ("Ins", "Insert", "insert"),
    "home": ("Home", "Home", "home"),
    "end": ("End", "End", "end"),
    "pageup": ("PgUp", "Prior", "page_up"),
    "pagedown": ("PgDown", "Next", "page_down"),
    "up": ("Up", "Up", "up"),
    "down": ("Down", "Down", "down"),
    "left": ("Left", "Left", "left"),
    "right": ("Right", "Right", "right"),
    "print": ("Print", "Print", "print_screen"),
    "pause": ("Pause", "Pause", "pause"),
}
_KEY_SYNONYMS = {
    "enter": "return", "ret": "return", "esc": "escape", "del": "delete", "ins": "insert",
    "pgup": "pageup", "pgdown": "pagedown", "pgdn": "pagedown", "prior": "pageup", "next": "pagedown",
    "page_up": "pageup", "page_down": "pagedown", "bksp": "backspace", "printscreen": "print",
    "spacebar": "space",
}  # fmt: skip
_PUNCTUATION = {  # character → X11 keysym name
    "`": "grave", "-": "minus", "=": "equal", "[": "bracketleft", "]": "bracketright",
    "\\": "backslash", ";": "semicolon", "'": "apostrophe", ",": "comma", ".": "period", "/": "slash",
}  # fmt: skip


class HotkeyError(AppError, ValueError):
    """A combination that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Hotkey:
    """A parsed combination: modifiers (canonical names) and one key (canonical name)."""

    modifiers: frozenset[str]
    key: str

    @property
    def display(self) -> str:
        """The one spelling shown everywhere: ``Ctrl+Alt+Space``."""
        mods = [_MODIFIER_DISPLAY[m] for m in MODIFIER_ORDER if m in self.modifiers]
        return "+".join([*mods, _key_display(self.key)])

    @property
    def x11_keysym(self) -> str:
        """The X11 keysym name of the key (``space``, ``a``, ``F5``, ``slash``…)."""
        if self.key in _NAMED_KEYS:
            return _NAMED_KEYS[self.key][1]
        if self.key in _PUNCTUATION:
            return _PUNCTUATION[self.key]
        if self.key.startswith("f") and self.key[1:].isdigit():
            return self.key.upper()
        return self.key

    @property
    def pynput(self) -> str:
        """pynput's GlobalHotKeys spelling: ``<ctrl>+<alt>+<space>``, ``<cmd>+k``."""
        names = {"ctrl": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "super": "<cmd>"}
        parts = [names[m] for m in MODIFIER_ORDER if m in self.modifiers]
        if self.key in _NAMED_KEYS:
            parts.append(f"<{_NAMED_KEYS[self.key][2]}>")
        elif self.key.startswith("f") and self.key[1:].isdigit():
            parts.append(f"<{self.key}>")
        else:
            parts.append(self.key)
        return "+".join(parts)

    @property
    def portal_trigger(self) -> str:
        """The XDG shortcuts spelling the GlobalShortcuts portal takes as ``preferred_trigger``."""
        names = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "super": "LOGO"}
        mods = [names[m] for m in MODIFIER_ORDER if m in self.modifiers]
        return "+".join([*mods, self.x11_keysym])


def _key_display(key: str) -> str:
    if key in _NAMED_KEYS:
        return _NAMED_KEYS[key][0]
    if key.startswith("f") and key[1:].isdigit():
        return key.upper()
    return key.upper() if len(key) == 1 and key.isalpha() else key


def parse_hotkey(text: str) -> Hotkey:
    """``"ctrl + alt + space"`` → Hotkey; raises :class:`HotkeyError` saying what is wrong."""
    raw = text.strip()
    if not raw:
        raise HotkeyError("No combination given.")
    if raw.endswith("++"):  # "+" as the key itself: "Ctrl++"
        raw = raw[:-2] + "+plus"
    parts = [p.strip() for p in raw.split("+")]
    if any(not p for p in parts):
        raise HotkeyError(f"“{text}” has an empty part: write it like Ctrl+Alt+Space.")
    modifiers: set[str] = set()
    keys: list[str] = []
    for part in parts:
        lowered = part.lower()
        if lowered in _MODIFIER_NAMES:
            modifiers.add(_MODIFIER_NAMES[lowered])
            continue
        keys.append(_canonical_key(part))
    if not keys:
        raise HotkeyError(f"“{text}” has modifiers but no key: add one, e.g. {text.strip()}+Space.")
    if len(keys) > 1:
        raise HotkeyError(f"“{text}” names {len(keys)} keys ({', '.join(keys)}): a hotkey has exactly one.")
    if not modifiers and not (keys[0].startswith("f") and keys[0][1:].isdigit()):
        raise HotkeyError(
            f"“{text}” has no modifier: a global hotkey without Ctrl, Alt, Shift or Super would swallow "
            "that key everywhere (function keys F1–F24 are the exception)."
        )
    if modifiers == {"shift"} and len(keys[0]) == 1:
        raise HotkeyError(
            f"“{text}” has no modifier besides Shift: it would swallow typing “{keys[0].upper()}” "
            "everywhere; add Ctrl, Alt or Super."
        )
    return Hotkey(frozenset(modifiers), keys[0])


def _canonical_key(part: str) -> str:
    lowered = part.lower()
    if lowered == "plus":
        return "="  # the unshifted key that carries "+" on most layouts
    lowered = _KEY_SYNONYMS.get(lowered, lowered)
    if lowered in _NAMED_KEYS:
        return lowered
    if lowered.startswith("f") and lowered[1:].isdigit() and 1 <= int(lowered[1:]) <= 24:
        return lowered
    if len(part) == 1 and (part.isalnum() or part in _PUNCTUATION):
        return part.lower()
    raise HotkeyError(f"“{part}” is not a key trayai knows: use a letter, digit, F1–F24, Space, Return…")


def normalize_hotkey(text: str) -> str:
    """The display spelling of ``text`` ("" stays "": no hotkey)."""
    return parse_hotkey(text).display if text.strip() else ""


__all__ = ["Hotkey", "HotkeyError", "normalize_hotkey", "parse_hotkey"]
