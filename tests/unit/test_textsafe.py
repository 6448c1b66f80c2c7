"""Server text made safe: invalid code points replaced, terminal controls stripped or shown."""

from __future__ import annotations

import json

import pytest

from trayai.core.textsafe import (
    TerminalSanitizer,
    escape_line,
    json_safe,
    strip_controls,
    valid_data,
    valid_text,
)

OSC52 = "\x1b]52;c;cHduZWQ=\x07"
HOSTILE = [
    ("clipboard " + OSC52 + "write", "clipboard write"),
    ("title \x1b]0;owned\x1b\\ok", "title ok"),
    ("clear \x1b[2J\x1b[Hscreen", "clear screen"),
    ("link \x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\ here", "link click here"),
    ("colour \x1b[1;31mred\x1b[0m", "colour red"),
    ("c1 csi \x9b2Jx and osc \x9d0;t\x9cy", "c1 csi x and osc y"),
    ("charset \x1b(Bx \x1bcreset", "charset x reset"),
    ("bell\x07 back\x08space del\x7f cr\r\nnext\ttab", "bell backspace del cr\nnext\ttab"),
    ("nul\x00 and \x1b[?25l hidden cursor", "nul and  hidden cursor"),
]


@pytest.mark.parametrize(("raw", "clean"), HOSTILE)
def test_terminal_sequences_are_removed_with_their_payload(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), HOSTILE)
def test_sequences_split_across_deltas_at_every_point_are_removed(raw: str, clean: str) -> None:
    for cut in range(len(raw) + 1):
        sanitizer = TerminalSanitizer()
        out = sanitizer.feed(raw[:cut]) + sanitizer.feed(raw[cut:])
        assert out == clean, f"cut at {cut}"
    one_by_one = TerminalSanitizer()
    assert "".join(one_by_one.feed(c) for c in raw) == clean


def test_no_control_survives_any_input() -> None:
    """Whatever the input, nothing but text, newline and tab comes out (no ESC, no C1)."""
    alphabet = "\x1b[]P\\\x07\x9b\x9d\x9c;0a\n\t\r\x00\x7f\x85é"
    for a in alphabet:
        for b in alphabet:
            for c in alphabet:
                out = TerminalSanitizer().feed(a + b + c)
                assert not any((ch < " " and ch not in "\n\t") or "\x7f" <= ch <= "\x9f" for ch in out)


def test_plain_text_and_unicode_pass_unchanged() -> None:
    text = "Héllo — 👩‍💻 naïve\nline two\tend"
    assert strip_controls(text) == text
    assert TerminalSanitizer().feed("plain") == "plain"


def test_an_unterminated_sequence_hides_no_more_than_its_line() -> None:
    sanitizer = TerminalSanitizer()
    assert sanitizer.feed("a\x1b]0;never terminated") == "a"
    assert sanitizer.feed(" still\nvisible") == "\nvisible"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert valid_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert valid_text("ascii") == "ascii"
    assert strip_controls("x\ud800") == "x\ufffd"
    assert valid_data({"k\udc00": ["\ud800", 1, None]}) == {"k\ufffd": ["\ufffd", 1, None]}
    valid_text("a\ud800").encode("utf-8")  # strict UTF-8 no longer fails


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("ai/smollm2", "ai/smollm2"),
        ("evil\nfake line", "evil\\nfake line"),
        ("x\x1b]52;c;AAAA\x07", "x\\e]52;c;AAAA\\x07"),
        ("tab\there\r", "tab\\there\\r"),
        ("c1\x9bx\x85", "c1\\x9bx\\x85"),
        ("sep\u2028x\ud800", "sep\\u2028x\\ud800"),
        ("naïve 👩‍💻", "naïve 👩‍💻"),
    ],
)
def test_single_line_fields_show_controls_visibly(raw: str, shown: str) -> None:
    assert escape_line(raw) == shown
    assert "\n" not in escape_line(raw) and "\x1b" not in escape_line(raw)


def test_json_safe_keeps_the_value_and_removes_raw_c1() -> None:
    value = {"title": "a\x9b2J\x7fb\ud800", "plain": "é"}
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert not any("\x7f" <= ch <= "\x9f" or "\ud800" <= ch <= "\udfff" for ch in text)
    assert json.loads(text) == value
    assert "é" in text
