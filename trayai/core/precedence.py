"""The one rule for a per-request value: the one given (a flag, a JSONL line) wins over the default.

"Given" means *not None*: ``--temperature 0`` or ``"max_tokens": 0`` is a choice, and a truthiness
test (``flag or default``) would silently send the profile's 0.7 instead. The CLI (``ask``,
``batch``) and ``core/batch.py`` use it; keeping it in one place keeps them agreeing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from trayai.core.client import GenerationOptions

if TYPE_CHECKING:
    from trayai.core.config import GenerationParams

T = TypeVar("T")


def given_or(value: T | None, default: T) -> T:
    """``value`` if it was given (is not None), else ``default``."""
    return value if value is not None else default


def options_over_profile(
    params: GenerationParams, *, temperature: float | None = None, max_tokens: int | None = None
) -> GenerationOptions:
    """A request's sampling options: the flags given, else the profile's ``generation`` defaults."""
    return GenerationOptions(
        temperature=given_or(temperature, params.temperature),
        top_p=params.top_p,
        max_tokens=given_or(max_tokens, params.max_tokens),
    )


def options_over(base: GenerationOptions, given: GenerationOptions) -> GenerationOptions:
    """``given``'s options where set, else ``base``'s (extra body fields merged, ``given`` winning)."""
    return GenerationOptions(
        temperature=given_or(given.temperature, base.temperature),
        top_p=given_or(given.top_p, base.top_p),
        max_tokens=given_or(given.max_tokens, base.max_tokens),
        extra={**base.extra, **given.extra},
    )
