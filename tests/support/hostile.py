"""Hostile answers for the chat view's tests and benchmark: a huge line, a huge code block."""

from __future__ import annotations


def long_line(chars: int) -> str:
    """One line, no newline: words, and runs with no break opportunity at all."""
    unit = "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 20 + "x" * 3000 + " "
    return (unit * (chars // len(unit) + 1))[:chars]


def huge_code_block(chars: int) -> str:
    """A short paragraph, a fenced Python block of about ``chars`` characters, a closing sentence."""
    lines = []
    total = 0
    i = 0
    while total < chars:
        line = f"    result_{i} = compute(value_{i}, factor={i % 97}) + offset  # step {i}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "Here is the file:\n\n```python\n" + "".join(lines) + "```\n\nThat's all."


def tokens_of(text: str, size: int = 32) -> list[str]:
    """The answer cut into ``size``-character tokens (full speed: ~32 K events per MB)."""
    return [text[i : i + size] for i in range(0, len(text), size)]
