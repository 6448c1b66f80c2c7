"""Action templates: the ``{selection}``, ``{clipboard}`` and ``{input}`` placeholders an action's
prompt may use, checked and filled. Apart from core/actions.py (which knows settings and the quick
prompt) so that core/settings/config.py can check a template without the two importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from trayai.core.errors import TemplateError

Placeholder = Literal["selection", "clipboard", "input"]
PLACEHOLDERS: tuple[Placeholder, ...] = ("selection", "clipboard", "input")
# ``{{`` and ``}}`` are literal braces; ``{word}`` is a placeholder; any other brace is text as typed,
# so a template may show JSON (``{"a": 1}``) without escaping.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(template: str) -> list[Placeholder]:
    """The placeholders ``template`` uses, in order of first use; :class:`TemplateError` for others."""
    found: list[Placeholder] = []
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise TemplateError(
                f"unknown placeholder {{{name}}} — use {known} (write {{{{ and }}}} for literal braces)"
            )
        if name not in found:
            found.append(name)
    return found


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot be an action's, as a phrase; None when it can."""
    if not isinstance(template, str) or not template.strip():
        return "the template is empty"
    try:
        placeholders(template)
    except TemplateError as exc:
        return str(exc)
    return None


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders replaced in one pass: text put in is never read again, so a
    selection that contains ``{clipboard}`` stays as it is."""

    def one(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0]  # {{ → {, }} → }
        return values.get(name, "")  # every name was checked by placeholders() first

    placeholders(template)
    return _TOKEN.sub(one, template)


__all__ = ["PLACEHOLDERS", "Placeholder", "TemplateError", "fill", "placeholders", "template_problem"]
