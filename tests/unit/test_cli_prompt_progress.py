"""``trayai ask`` says how far a llama.cpp server has read a long prompt: one line redrawn in place on
a terminal's stderr, wiped at the first word; nothing at all (no control sequences) on a pipe.

Why: minutes of silence after Enter read as a hang; a script reading stderr must not get ``\\r``.
"""

from __future__ import annotations

import io

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def ask(server: ScriptedServer, err: io.StringIO) -> tuple[int, str]:
    server.owned_by = "llamacpp"
    server.models = ["ai/smollm2"]
    server.script(Reply(text="Read.", progress_steps=[0, 1840, 4096], progress_total=4096))
    out = io.StringIO()
    code = main(
        ["ask", "--endpoint", server.base_url, "--model", "ai/smollm2", "Long?"], stdout=out, stderr=err
    )
    return code, out.getvalue()


def test_a_terminal_sees_the_line_redrawn_then_wiped(server: ScriptedServer) -> None:
    err = Terminal()
    code, out = ask(server, err)
    assert code == 0 and out == "Read.\n"
    said = err.getvalue()
    assert "\rReading" not in said  # the bar leads the line
    assert "Reading the prompt… 45 % (1,840 / 4,096 tokens)\x1b[K" in said
    assert "Reading the prompt… 100 % (4,096 / 4,096 tokens)\x1b[K" in said
    assert said.endswith("\r\x1b[K")  # wiped before the answer: nothing of it left on screen
    assert said.count("\r") == 4  # three draws, one wipe


def test_a_pipe_gets_no_progress_and_no_control_sequences(server: ScriptedServer) -> None:
    err = io.StringIO()
    code, out = ask(server, err)
    assert code == 0 and out == "Read.\n"
    assert "Reading" not in err.getvalue() and "\r" not in err.getvalue() and "\x1b" not in err.getvalue()
    assert (server.chat_requests()[-1].body or {}).get("return_progress") is True  # asked all the same
