"""The contract every settings page keeps, so a new page (or a new setting on one) enters the dialog
without the dialog learning its fields: ``load`` shows settings, ``store`` writes them back, ``problem``
says the first thing wrong on the page (and shows where it is), in a sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from PySide6.QtWidgets import QWidget

from trayai.core.desktop_entry import DesktopPlaces
from trayai.core.net.client import ModelClient
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import LoadedConfig
from trayai.core.tasks import TaskOwner
from trayai.ui.tools_keeper import ToolsKeeper

ClientFactory = Callable[[str, str], ModelClient]


@dataclass(frozen=True)
class PageContext:
    """What the dialog was opened with, handed to every page (each takes what it needs): the loaded
    settings with their environment overrides, the keychain, the dialog's tasks, how to reach a server,
    what this run talks to, the hotkey's state, where the applications-menu entry goes, the tool servers."""

    loaded: LoadedConfig
    secrets: SecretStore
    tasks: TaskOwner
    client_factory: ClientFactory
    running: ResolvedEndpoint | None
    hotkey_note: str | None
    desktop: DesktopPlaces
    tools: ToolsKeeper | None = None  # the app's MCP servers (their state and tools); None: read mcp.json


class SettingsPage(QWidget):
    """One section of the dialog. The dialog calls ``load`` once on its copy of the settings; on OK it
    ``store``s every page into the copy, then asks every page's ``problem()`` in section order.

    ``section`` is the page's name in the section list; ``rows_at_top``: a form keeps its rows at the
    top when the dialog is taller than they are (list pages fill the height instead).
    """

    section: ClassVar[str]
    rows_at_top: ClassVar[bool] = True

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        """Every page is made the same way, from what the dialog was opened with."""
        super().__init__(parent)

    def load(self, settings: Settings) -> None:
        """Show these settings (the page may keep the objects: the dialog's copy is its own)."""
        raise NotImplementedError

    def store(self, settings: Settings) -> None:
        """Write what the page shows into ``settings`` (unchecked: ``problem`` checks)."""
        raise NotImplementedError

    def problem(self) -> str | None:
        """The first thing wrong on this page as a sentence naming it, shown (its item selected); None
        when the page can be saved."""
        return None

    def set_narrow(self, *, narrow: bool) -> None:
        """The dialog became narrow (lists go above their forms) or wide again."""

    def saved(self) -> None:
        """OK saved the settings: a page that keeps a file of its own (Tools: mcp.json) writes it now."""


@runtime_checkable
class ProfilePart(Protocol):
    """A page that shows values of the profile chosen on the Endpoints page (the generation defaults):
    that page shows it each profile it selects and has it store into the one it leaves."""

    def show_profile(self, profile: Profile) -> None: ...

    def store_profile(self, profile: Profile) -> None: ...


__all__ = ["ClientFactory", "PageContext", "ProfilePart", "SettingsPage"]
