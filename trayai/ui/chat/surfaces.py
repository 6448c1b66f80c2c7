"""The chat window and the quick prompt, made on first use with one history and one controller
builder: nothing of the chat side is imported until one opens (docs/architecture.md, "The tray app").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.embedded import RunState
from trayai.core.net.backends.records import ModelRecord
from trayai.core.net.urls import host_port
from trayai.core.status import StatusReport
from trayai.core.traymodel import last_reply_line
from trayai.ui.icons import app_icon
from trayai.ui.monitor import StatusMonitor

if TYPE_CHECKING:
    from trayai.core.chat.history import HistoryStore
    from trayai.core.net.client import ModelClient
    from trayai.core.picker import PickerServer
    from trayai.core.settings.resolve import ResolvedEndpoint
    from trayai.ui.builtin_side import BuiltinSide
    from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome
    from trayai.ui.chat.conversations import SharedConversations
    from trayai.ui.chat.server_link import ServerLink
    from trayai.ui.chat.tool_access import ToolAccess
    from trayai.ui.chat.window import ChatWindow
    from trayai.ui.model_side import ModelSide
    from trayai.ui.prompt.window import QuickPromptWindow
    from trayai.ui.session import Session

log = logging.getLogger(__name__)


class ChatSurfaces(QObject):
    """Owns history, the chat window, the quick prompt and their controllers.

    Every request goes to the monitor's current client and model, and tells the monitor when it starts
    and ends (the tray shows *generating*). Signal: ``finished(object)`` — a ``ReplyOutcome``, after
    ``last_reply`` was updated (for the tooltip).
    """

    finished = Signal(object)
    settings_requested = Signal()  # an error's "Open Settings" button

    def __init__(
        self,
        data_dir: Path,
        session: Session,
        monitor: StatusMonitor,
        parent: QObject | None = None,
        *,
        fallbacks: Callable[[], list[tuple[ResolvedEndpoint, ModelClient]]] = list,
        models: ModelSide | None = None,
        builtin: BuiltinSide | None = None,
        tools: ToolAccess | None = None,
    ) -> None:
        """``models`` and ``builtin``: the app's sides the chat's error buttons and picker use;
        ``tools``: the MCP tools the chat's model may call (None: none)."""
        super().__init__(parent)
        self._tools = tools
        self._models = models
        self._builtin = builtin
        self._session = session  # asked at each request: the endpoint can change meanwhile
        self._presets = lambda: session.settings.presets
        self._fallbacks = fallbacks  # the active profile's usable fallbacks, asked at each request
        self.fallback_in_use: str | None = None  # the profile that answered the last reply instead
        self._data_dir = data_dir
        self._redactor = session.redactor
        self._monitor = monitor
        self._notify = session.notice.emit
        self._spawn = session.tasks.spawn
        session.settings_changed.connect(lambda _new, _old: self._update_prompt_actions())
        self.history: HistoryStore | None = None
        self.conversations: SharedConversations | None = None  # shared by both: one signal refreshes both
        self.chat: ChatController | None = None
        self.chat_window: ChatWindow | None = None
        self.prompt_chat: ChatController | None = None
        self.prompt_window: QuickPromptWindow | None = None
        self.last_reply: str | None = None  # "Last answer: 45.1 tok/s, first token 0.21 s"

    def open_chat(self) -> None:
        """Show the chat window, creating history, controller and window the first time."""
        if self.chat_window is None:
            # lazy: loaded when first used: the tray stays light
            from trayai.ui.chat.window import ChatWindow

            conversations = self._open_history()
            if conversations is None:
                return
            self.chat = self._new_controller(conversations)
            self.chat_window = ChatWindow(
                self.chat,
                conversations.store,
                state_file=self._data_dir / "window-state.ini",
                presets=self._presets,
                server=self._server_link(),
                hotkey=lambda: self._session.settings.hotkey,
            )
            self.chat_window.setWindowIcon(app_icon())
            # "Loading qwen3 into memory…" while waiting, only when the server's own list says so.
            self.chat_window.transcript.set_model_records(self._active_records)
            self._monitor.report_changed.connect(self._update_models)
            if self._monitor.report is not None:
                self._update_models(self._monitor.report)
        self.chat_window.bring_forward()
        log.info("chat window shown")

    def _active_records(self) -> Sequence[ModelRecord] | None:
        """The active server's models as its last look saw them (None: no model API answered)."""
        report = self._monitor.report
        snapshot = report.snapshot if report is not None else None
        return None if snapshot is None or snapshot.error is not None else snapshot.models

    def open_prompt(self) -> None:
        """Summon the quick prompt (hotkey, ``trayai prompt``, tray menu)."""
        if self.prompt_window is None:
            # lazy: loaded when first used: the tray stays light
            from trayai.ui.prompt.window import QuickPromptWindow

            conversations = self._open_history()
            if conversations is None:
                return
            # lazy: loaded when first used: the tray stays light
            from trayai.core.chat.chatgroups import QUICK_PROMPT_ORIGIN

            self.prompt_chat = self._new_controller(conversations, origin=QUICK_PROMPT_ORIGIN)
            tools = self._tools
            self.prompt_window = QuickPromptWindow(
                self.prompt_chat,
                state_file=self._data_dir / "window-state.ini",
                has_tools=lambda: tools is not None and tools.current_hub() is not None,
            )
            self.prompt_window.open_in_chat.connect(self._continue_in_chat)
        self._update_prompt_actions()
        self.prompt_window.summon()

    def _server_link(self) -> ServerLink:
        """The chat's view of every server and the acts its buttons ask of the app."""
        # lazy: loaded when first used: the tray stays light
        from trayai.ui.chat.server_link import ServerHooks, ServerLink

        session, monitor, models, builtin = self._session, self._monitor, self._models, self._builtin

        def report() -> StatusReport | None:
            last = monitor.report
            if last is not None and last.base_url != session.active.client.base_url:
                return None  # the last poll of the server before a switch: not this one's
            return last

        def servers() -> list[PickerServer]:
            # lazy: loaded when first used: the tray stays light
            from trayai.core.picker import watched_servers

            profiles = [(p.name, host_port(p.base_url)) for p in session.settings.profiles]
            looks = models.fleet.looks() if models is not None else []
            return watched_servers(profiles, session.resolved.own_profile, report(), looks)

        def builtin_can_start() -> bool:
            if builtin is None:
                return False
            server = builtin.server
            return server.unavailable_reason() is None and server.state in (RunState.STOPPED, RunState.FAILED)

        link = ServerLink(
            ServerHooks(
                servers=servers,
                report=report,
                builtin_can_start=builtin_can_start,
                choose_profile=session.choose_profile,
                start_builtin=builtin.start if builtin is not None else lambda: None,
                open_settings=self.settings_requested.emit,
                load_model=models.actions.load if models is not None else lambda _name: None,
            ),
            self,
        )
        monitor.report_changed.connect(lambda _report: link.changed.emit())
        session.endpoint_changed.connect(lambda _active: link.changed.emit())
        if models is not None:
            models.changed.connect(link.changed)
        return link

    def _update_prompt_actions(self) -> None:
        """The quick prompt's numbered actions follow the saved settings."""
        if self.prompt_window is not None:
            self.prompt_window.set_actions(self._session.settings.actions)

    async def close(self) -> None:
        """Shutdown: running answers are stopped and saved, then the windows go and history closes."""
        for controller in (self.chat, self.prompt_chat):
            if controller is not None:
                controller.stop()
                await controller.wait_idle()
        if self.prompt_window is not None:
            self.prompt_window.hide()
            self.prompt_window.deleteLater()
            self.prompt_window = None
        if self.chat_window is not None:
            self.chat_window.save_state()
            self.chat_window.hide()
            self.chat_window.deleteLater()
            self.chat_window = None
        if self.history is not None:
            self.history.close()

    def _new_controller(
        self, conversations: SharedConversations, origin: str | None = None
    ) -> ChatController:
        """A controller whose reply signals reach the app; chat imports warm up off the UI thread."""
        # lazy: loaded when first used: the tray stays light
        from trayai.ui.chat.controller import ChatController
        from trayai.ui.chat.warmup import warm_up_chat

        controller = ChatController(
            conversations.store,
            self._target,
            self,
            conversations=conversations,
            origin=origin,
            tools=self._tools if origin is None else None,  # the quick prompt says tools are the chat's
        )
        controller.busy_changed.connect(lambda busy: self._on_busy(busy=busy))
        controller.finished.connect(self._on_finished)
        controller.failed.connect(lambda _outcome: self._monitor.request_finished(failed=True))
        self._spawn(warm_up_chat(self._session.active.client))  # ready before the first prompt is typed
        return controller

    def _target(self) -> ChatTarget:
        # lazy: loaded when first used: the tray stays light
        from trayai.ui.chat.controller import ChatTarget

        active, report = self._session.active, self._monitor.report
        resolved, profile = active.resolved, active.resolved.profile
        fresh = report is not None and report.model == active.model  # a poll of this model, not the last
        resolved_model = report.resolved_model if fresh and report is not None else None
        fallbacks = tuple(
            ChatTarget(
                client=client,
                model=other.model,
                profile=other.own_profile,
                generation=other.profile.generation,
                context_tokens=other.profile.context_tokens,
            )
            for other, client in self._fallbacks()
        )
        return ChatTarget(
            client=active.client,
            model=resolved_model or active.model,
            profile=resolved.own_profile,  # None: --endpoint sent this run elsewhere
            generation=profile.generation,
            context_tokens=profile.context_tokens,  # 0: the chat asks the server (llama.cpp /props)
            fallbacks=fallbacks,
        )

    def _on_busy(self, *, busy: bool) -> None:
        if busy:
            self._monitor.request_started()

    def _on_finished(self, outcome: ReplyOutcome) -> None:
        self.last_reply = last_reply_line(outcome.message.meta) or self.last_reply
        used = outcome.message.meta.get("fallback_profile")
        self.fallback_in_use = str(used) if used else None
        self._monitor.request_finished(failed=False)
        self.finished.emit(outcome)

    def _open_history(self) -> SharedConversations | None:
        """The history database, opened once for the chat window and the quick prompt."""
        if self.conversations is not None:
            return self.conversations
        # lazy: loaded when first used: the tray stays light
        from trayai.core.chat.history import HistoryStore
        from trayai.core.chat.history_db import HistoryError

        # lazy: loaded when first used: the tray stays light
        from trayai.ui.chat.conversations import SharedConversations

        try:
            history = HistoryStore.in_dir(self._data_dir, redactor=self._redactor)
        except HistoryError as exc:
            self._notify("The chat history cannot be opened", str(exc))
            return None
        history.purge_deleted(older_than=24 * 3600)  # deletions stay undoable for a day
        history.recover_interrupted()  # answers cut by a crash or SIGKILL of an earlier run
        if history.recovered_from is not None:
            log.warning("history database was damaged: moved to %s", history.recovered_from)
            self._notify(
                "Chat history was damaged",
                f"It was moved to {history.recovered_from}; a new one was started.",
            )
        self.history = history
        self.conversations = SharedConversations(history, self)
        return self.conversations

    def _continue_in_chat(self, conversation_id: int) -> None:
        self.open_chat()
        if self.chat_window is not None:  # its list already follows the shared conversations
            self.chat_window.open_conversation(conversation_id)

    def _update_models(self, report: StatusReport) -> None:
        if self.chat_window is not None:
            self.chat_window.set_models(list(report.models))


__all__ = ["ChatSurfaces"]
