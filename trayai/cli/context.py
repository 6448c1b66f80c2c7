"""What every command gets: the arguments, configuration, secrets, redactor and output streams.

Built once per run in :func:`trayai.cli.main` and passed to the command's handler (no globals).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from trayai.core.errors import AppError, TrayaiError
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.settings.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.core.textsafe import escape_line

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def error_text(error: AppError, lead: str = "error") -> str:
    """The one way the CLI shows an error: ``lead: message``, the server's own words when they add
    something, then ``  → hint`` — every line without control characters."""
    lines = [f"{lead}: {escape_line(error.message)}"]
    if isinstance(error, TrayaiError) and error.detail and error.detail not in error.message:
        lines.append(f"  server said: {escape_line(error.detail)}")
    if error.hint:
        lines.append(f"  → {escape_line(error.hint)}")
    return "\n".join(lines)


class Context:
    """What every command needs, built once from the arguments (no globals).

    Server strings are untrusted: printed through :meth:`line` / :meth:`fail` (keys redacted,
    controls shown visibly) or, for answers, :class:`~trayai.core.textsafe.TerminalSanitizer`.
    """

    def __init__(
        self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO, redactor: Redactor | None = None
    ) -> None:
        self.args = args
        self.out = stdout
        self.err = stderr
        self.redactor = redactor if redactor is not None else Redactor()
        self.paths = AppPaths.from_env()
        self.store = ConfigStore(self.paths)
        self.loaded: LoadedConfig = self.store.load()
        self._secrets: SecretStore | None = None
        for warning in self.loaded.warnings:
            self.say(f"warning: {warning}")

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = SecretStore()
        return self._secrets

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def resolve(self) -> ResolvedEndpoint:
        args = self.args
        return self.known(
            resolve_endpoint(
                self.loaded, self.secrets, profile=args.profile, base_url=args.endpoint, model=args.model
            )
        )

    def known(self, resolved: ResolvedEndpoint) -> ResolvedEndpoint:
        """Register the endpoint's key with the redactor: a server may echo it back."""
        if resolved.has_real_key:
            self.redactor.add_secret(resolved.endpoint.api_key)
        return resolved

    def line(self, text: str) -> str:
        """A server string for one line of output: no key, no control characters."""
        return escape_line(self.redactor.redact(text))

    def data(self, value: Any) -> Any:
        """Server data for ``--json``: keys redacted (json.dumps escapes the controls)."""
        return self.redactor.redact_data(value)

    def fail(self, error: AppError) -> int:
        """Say ``error`` (a server's words redacted: they may echo the key) and give exit 1."""
        if isinstance(error, TrayaiError):
            error = error.redacted(self.redactor.redact)
        self.say(error_text(error))
        return EXIT_FAIL
