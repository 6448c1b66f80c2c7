"""``trayai --endpoint URL --model M --profile P``: the tray app on another endpoint for this run,
never saved; and the instance command that retargets a running tray to it.

The command crosses the instance socket from another process: it is bounded, strict JSON, and its
URL is checked like any other before the app sees it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.settings.store import Override
from trayai.core.textsafe import escape_line

COMMAND_PREFIX = "target:"
MAX_FIELD = 2000  # a URL, a model or a profile name


@dataclass(frozen=True)
class RunTarget:
    """What this run talks to instead of the saved active profile (None: the saved value)."""

    profile: str | None = None
    base_url: str | None = None
    model: str | None = None

    @property
    def empty(self) -> bool:
        return self.profile is None and self.base_url is None and self.model is None

    def command(self) -> str:
        return COMMAND_PREFIX + json.dumps(
            {"profile": self.profile, "base_url": self.base_url, "model": self.model}, separators=(",", ":")
        )

    def overrides(self) -> Mapping[str, Override]:
        """The run's values as overrides, so the menu says who fixes them ("--endpoint (this run)")."""
        found: dict[str, Override] = {}
        if self.base_url is not None:
            found["base_url"] = Override("base_url", "--endpoint", self.base_url, "this run")
        if self.model is not None:
            found["model"] = Override("model", "--model", self.model, "this run")
        return found

    def describe(self) -> str:
        parts = [
            f"{flag} {escape_line(value)}"
            for flag, value in (
                ("--profile", self.profile),
                ("--endpoint", self.base_url),
                ("--model", self.model),
            )
            if value is not None
        ]
        return " ".join(parts) or "the saved settings"


def target_from_command(command: str) -> RunTarget | None:
    """The target a ``target:{…}`` command carries, or None when it is not a well-formed one."""
    if not command.startswith(COMMAND_PREFIX):
        return None
    try:
        data = json.loads(command[len(COMMAND_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) - {"profile", "base_url", "model"}:
        return None
    values: dict[str, str | None] = {}
    for key in ("profile", "base_url", "model"):
        value = data.get(key)
        if value is None:
            values[key] = None
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD:
            return None
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            return None
        values[key] = value.strip()
    if values["base_url"] is not None:
        try:
            values["base_url"] = normalize_base_url(values["base_url"]).url
        except InvalidURLError:
            return None
    return RunTarget(values["profile"], values["base_url"], values["model"])
