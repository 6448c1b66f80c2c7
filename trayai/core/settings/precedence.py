"""The one rule for a per-request value: the one given (a flag, a JSONL line) wins over the default.

"Given" means not None: ``--temperature 0`` is a choice that ``flag or default`` would lose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from trayai.core.net.client import GenerationOptions

if TYPE_CHECKING:
    from trayai.core.settings.config import GenerationParams

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
