"""``Session``: the one owner of the running app's live state — the settings, this run's target
(``--endpoint/--model/--profile``), the active endpoint and the background tasks — and the one place
that changes them. Everything else subscribes: ``settings_changed`` and ``endpoint_changed`` replace
the getters and the hand-written pushes ``TrayApp`` used to make (qutebrowser's ``config.changed``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.active import ActiveEndpoint
from trayai.core.errors import AppError, ConfigError
from trayai.core.net.client import ModelClient
from trayai.core.runtarget import RunTarget
from trayai.core.settings.config import Settings
from trayai.core.settings.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.settings.store import ConfigStore, LoadedConfig, Override
from trayai.core.tasks import TaskOwner
from trayai.ui.tools_keeper import ToolsKeeper

if TYPE_CHECKING:
    from trayai.core.redact import Redactor
    from trayai.core.settings.secrets import SecretStore

log = logging.getLogger(__name__)


class Session(QObject):
    """Signals: ``settings_changed(new, old)`` after settings were saved elsewhere and applied here;
    ``endpoint_changed(ActiveEndpoint)`` whenever the active endpoint is replaced (a new client, or the
    same client with another model); ``notice(title, text)`` for the user (the tray shows it).
    ``tools`` owns the MCP tool servers (``ToolsKeeper``)."""

    settings_changed = Signal(object, object)
    endpoint_changed = Signal(object)
    notice = Signal(str, str)

    def __init__(
        self,
        store: ConfigStore,
        loaded: LoadedConfig,
        secrets: SecretStore,
        redactor: Redactor,
        run_target: RunTarget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.loaded = loaded
        self.secrets = secrets
        self.redactor = redactor  # knows every key resolved: logs, history and errors use it
        self.run_target = run_target or RunTarget()  # this run only, never saved
        self.tasks = TaskOwner()
        self.tools = ToolsKeeper.at(store.paths, redactor, self)  # mcp.json's servers; started by the app
        self.tools.notice.connect(self.notice)
        resolved = self._resolve()
        self.active = ActiveEndpoint(resolved, ModelClient(resolved.endpoint))

    # ------------------------------------------------------------------ reading

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    @property
    def resolved(self) -> ResolvedEndpoint:
        return self.active.resolved

    def overrides(self) -> dict[str, Override]:
        """What the environment and this run's flags set (the menus say "Set by …")."""
        return {**self.loaded.overrides, **self.run_target.overrides()}

    def explicit(self) -> bool:
        """This run names its server or model (``--endpoint``/``--model``): no fallback answers."""
        return self.run_target.base_url is not None or self.run_target.model is not None

    def resolve_profile(self, name: str) -> ResolvedEndpoint:
        """A profile's endpoint (a watched or fallback one); its key, if any, joins the redactor."""
        return self.known(resolve_endpoint(self.loaded, self.secrets, profile=name))

    def _resolve(self) -> ResolvedEndpoint:
        target = self.run_target
        return self.known(
            resolve_endpoint(
                self.loaded,
                self.secrets,
                profile=target.profile,
                base_url=target.base_url,
                model=target.model,
            )
        )

    def known(self, resolved: ResolvedEndpoint) -> ResolvedEndpoint:
        """``resolved``, its key (if any) now known to the redactor."""
        if resolved.has_real_key:
            self.redactor.add_secret(resolved.endpoint.api_key)  # never logged, shown or stored
        return resolved

    # ------------------------------------------------------------------ changing

    def apply(self, settings: Settings) -> bool | None:
        """Settings saved elsewhere (the dialog's OK) become live: subscribers follow, then the
        endpoint is resolved again. Returns what :meth:`switch` returns."""
        old = self.loaded.settings
        self.loaded = replace(self.loaded, settings=settings)
        self.settings_changed.emit(settings, old)
        changed = self.switch(always=False)
        if changed is not None:
            log.info("settings applied (endpoint %s)", "changed" if changed else "unchanged")
        return changed

    def choose_model(self, name: str) -> None:
        """Model ▸ choice: saved to the active profile (that one field, on the file as it is now)."""
        # lazy: loaded when first used: the tray stays light
        from trayai.core.settings import edit as config_edit

        profile = self.settings.active()
        profile.model = name
        try:
            self.store.update(lambda saved: config_edit.set_profile(saved, profile.name, model=name))
        except (OSError, ConfigError) as exc:
            self.notice.emit("Could not save the model choice", str(exc))
        if self.run_target.model is not None:  # --model for this run: the new choice replaces it
            self.run_target = replace(self.run_target, model=name)
        self._replace(self.active.with_model(name))

    def choose_profile(self, name: str) -> None:
        """Servers ▸ / Endpoint ▸ choice: saved as the active profile, and used at once."""
        # lazy: loaded when first used: the tray stays light
        from trayai.core.settings import edit as config_edit

        settings = self.settings
        if not settings.has_profile(name) or name == settings.active().name:
            return
        settings.active_profile = name
        self.run_target = replace(self.run_target, profile=None)  # chosen now: it beats --profile
        try:
            self.store.update(lambda saved: config_edit.use_profile(saved, name))
        except (OSError, ConfigError) as exc:
            self.notice.emit("Could not save the endpoint choice", str(exc))
        self.switch(always=True)
        self.settings_changed.emit(settings, settings)  # the old active profile joins the watched

    def retarget(self, target: RunTarget) -> None:
        """A second ``trayai --endpoint …``: use that for this run (nothing is saved)."""
        previous, self.run_target = self.run_target, target
        if self.switch(always=True) is None:
            self.run_target = previous  # unusable (the user was told): keep what worked
            return
        self.settings_changed.emit(self.settings, self.settings)
        self.notice.emit("Endpoint for this run", f"{target.describe()} — not saved")
        log.info("retargeted for this run: %s", target.describe())

    def switch(self, *, always: bool) -> bool | None:
        """Resolve the endpoint again and replace the active one.

        Returns whether the endpoint or model changed (``always`` makes a new client anyway), or None
        when it cannot be used (the user is told, the old one stays).
        """
        try:
            resolved = self._resolve()
        except AppError as exc:
            self.notice.emit("This endpoint cannot be used", str(exc))
            return None
        active = self.active
        changed = not active.same_server(resolved) or resolved.model != active.model
        if changed or always:
            keep = active.same_server(resolved) and not always
            self._replace(ActiveEndpoint(resolved, active.client if keep else ModelClient(resolved.endpoint)))
        else:
            self.active = ActiveEndpoint(resolved, active.client)  # same server: provenance may differ
            self.endpoint_changed.emit(self.active)
        return changed

    def _replace(self, active: ActiveEndpoint) -> None:
        self.active = active
        self.endpoint_changed.emit(active)


__all__ = ["Session"]
