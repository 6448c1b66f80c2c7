"""A value given (flag, JSONL line) wins over the default even when it is falsy."""

from __future__ import annotations

from trayai.core.net.client import GenerationOptions
from trayai.core.settings.config import GenerationParams
from trayai.core.settings.precedence import given_or, options_over, options_over_profile


def test_zero_and_empty_count_as_given() -> None:
    assert given_or(0.0, 0.7) == 0.0
    assert given_or("", "be brief") == ""
    assert given_or(None, 0.7) == 0.7


def test_flags_over_the_profile() -> None:
    params = GenerationParams(temperature=0.7, top_p=0.9, max_tokens=1024)
    assert options_over_profile(params) == GenerationOptions(temperature=0.7, top_p=0.9, max_tokens=1024)
    assert options_over_profile(params, temperature=0.0, max_tokens=5) == GenerationOptions(
        temperature=0.0, top_p=0.9, max_tokens=5
    )


def test_a_line_over_the_defaults() -> None:
    base = GenerationOptions(temperature=0.7, max_tokens=100, extra={"seed": 1, "stop": ["x"]})
    line = GenerationOptions(temperature=0.0, top_p=0.5, extra={"seed": 2})
    assert options_over(base, line) == GenerationOptions(
        temperature=0.0, top_p=0.5, max_tokens=100, extra={"seed": 2, "stop": ["x"]}
    )
