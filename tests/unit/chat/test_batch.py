"""`trayai batch`: JSONL in, JSONL out; bad lines and failed requests never abort; resumable."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import wait_until


def write_lines(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_answers_every_line_in_order(server: ScriptedServer, tmp_path: Path) -> None:
    src = write_lines(
        tmp_path / "in.jsonl",
        {"id": "a", "prompt": "first"},
        {"prompt": "second", "temperature": 0.1, "max_tokens": 50},
        "",
        {"id": 7, "messages": [{"role": "user", "content": "third"}], "model": "ai/other"},
        {"id": "d", "prompt": "fourth", "system": "Be brief.", "seed": 3},
    )
    out = tmp_path / "out.jsonl"
    server.models = ["ai/smollm2", "ai/other"]
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--concurrency", "3")
    assert code == 0, err
    got = records(out)
    assert [r["id"] for r in got] == ["a", "line-2", "7", "d"]
    assert [r["line"] for r in got] == [1, 2, 4, 5]
    assert all(r["error"] is None and r["answer"] == "Hello from the scripted server." for r in got)
    assert got[0]["usage"]["completion_tokens"] == 5 and got[0]["timings"]["duration_s"] > 0
    bodies = {json.dumps(r.json["messages"]): r.json for r in server.chat_requests()}
    second = bodies[json.dumps([{"role": "user", "content": "second"}])]
    assert second["temperature"] == 0.1 and second["max_tokens"] == 50
    third = bodies[json.dumps([{"role": "user", "content": "third"}])]
    assert third["model"] == "ai/other"
    fourth = bodies[
        json.dumps([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "fourth"}])
    ]
    assert fourth["seed"] == 3
    assert "4 answered, 0 failed" in err


def test_bad_lines_and_failed_requests_do_not_stop_the_run(server: ScriptedServer, tmp_path: Path) -> None:
    server.script(
        Reply(status=500, error_message="model crashed"), Reply(text="one two three four", disconnect_after=2)
    )
    src = write_lines(
        tmp_path / "in.jsonl",
        {"id": "boom", "prompt": "x"},
        {"id": "cut", "prompt": "y"},
        "{not json",
        {"id": "empty"},
        {"id": "badparam", "prompt": "z", "max_tokens": -3},
        {"id": "ok", "prompt": "fine"},
    )
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--concurrency", "1")
    assert code == 1
    got = {r["id"]: r for r in records(out)}
    assert (
        got["boom"]["error"]["code"] == "server_error" and "model crashed" in got["boom"]["error"]["message"]
    )
    assert got["cut"]["error"]["code"] == "disconnected" and got["cut"]["answer"] == "one two "
    assert "not valid JSON" in got["line-3"]["error"]["message"]
    assert "'prompt'" in got["empty"]["error"]["message"]
    assert "max_tokens" in got["badparam"]["error"]["message"]
    assert got["ok"]["error"] is None
    assert len(server.chat_requests()) == 3  # unusable lines are never sent
    assert "1 answered, 5 failed" in err and "--resume" in err


def test_resume_skips_answered_ids_and_retries_failures(server: ScriptedServer, tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", *({"id": f"q{i}", "prompt": f"p{i}"} for i in range(5)))
    out = tmp_path / "out.jsonl"
    server.script(Reply(), Reply(status=503))
    code, _, _ = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--concurrency", "1")
    assert code == 1
    assert [r["error"] is None for r in records(out)] == [True, False, True, True, True]
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url)
    assert code == 1 and "--resume" in err  # never overwrites by accident (the disk, not usage)
    sent_before = len(server.chat_requests())
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--resume")
    assert code == 0, err
    assert len(server.chat_requests()) == sent_before + 1  # only q1 again
    assert "1 answered, 0 failed, 4 already done" in err
    answered = {r["id"] for r in records(out) if r["error"] is None}
    assert answered == {f"q{i}" for i in range(5)}


def test_concurrency_is_real_and_bounded(server: ScriptedServer, tmp_path: Path) -> None:
    server.set_default(Reply(n_tokens=10, rate=50))  # 0.2 s per answer
    src = write_lines(tmp_path / "in.jsonl", *({"prompt": f"p{i}"} for i in range(9)))
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--concurrency", "3")
    assert code == 0, err
    assert server.max_active_streams == 3  # three at once, never more
    assert [r["id"] for r in records(out)] == [f"line-{i}" for i in range(1, 10)]


def test_unordered_writes_as_answers_complete(server: ScriptedServer, tmp_path: Path) -> None:
    # Keyed by prompt: the two requests race, so the order they arrive in says nothing.
    server.replies_by_prompt = {"a": Reply(n_tokens=20, rate=40), "b": Reply(text="fast")}
    src = write_lines(tmp_path / "in.jsonl", {"id": "slow", "prompt": "a"}, {"id": "fast", "prompt": "b"})
    out = tmp_path / "out.jsonl"
    code, _, _ = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--unordered")
    assert code == 0
    assert [r["id"] for r in records(out)] == ["fast", "slow"]


def test_ctrl_c_keeps_finished_lines_and_resume_completes(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", *({"id": f"n{i}", "prompt": f"p{i}"} for i in range(12)))
    out = tmp_path / "out.jsonl"
    import threading

    release = threading.Event()
    with ScriptedServer() as server:
        # The first three prompts are answered, every other stream is held: Ctrl+C lands mid-run
        # however busy the machine is (a timed run could finish all 12 before the signal arrived),
        # and which three is fixed whatever order the requests arrive in.
        server.replies_by_prompt = {f"p{i}": Reply(n_tokens=8) for i in range(3)}
        server.set_default(Reply(n_tokens=8, hold=release))
        argv = [
            sys.executable,
            "-m",
            "trayai.cli",
            "batch",
            str(src),
            "-o",
            str(out),
            "--endpoint",
            server.base_url,
            "--concurrency",
            "2",
        ]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Five requests with two at a time: p0-p2 answered, two held.
        wait_until(lambda: len(server.chat_requests()) >= 5 or proc.poll() is not None, 30, "three answers")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "--resume" in err
        partial = records(out)  # every line on disk is complete JSON
        assert len(partial) == 3
        release.set()
        done = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "batch: " in done.stderr  # quiet progress lines when stderr is not a terminal
    assert sorted(r["id"] for r in records(out)) == sorted(f"n{i}" for i in range(12))


def test_a_second_run_on_the_same_output_refuses_while_the_first_holds_it(tmp_path: Path) -> None:
    import threading

    src = write_lines(tmp_path / "in.jsonl", *({"id": f"n{i}", "prompt": "p"} for i in range(4)))
    out = write_lines(tmp_path / "out.jsonl", {"id": "n0", "answer": "earlier", "error": None})
    release = threading.Event()
    with ScriptedServer() as server:
        server.script(Reply(hold=release))  # the first run's first request waits for the test
        argv = [
            sys.executable,
            "-m",
            "trayai.cli",
            "batch",
            str(src),
            "-o",
            str(out),
            "--endpoint",
            server.base_url,
            "--concurrency",
            "1",
        ]
        first = subprocess.Popen(
            [*argv, "--resume"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_until(
                lambda: server.chat_requests() or first.poll() is not None, 30, "the first run's request"
            )
            assert len(server.chat_requests()) == 1, "the first run never reached the server"
            before = out.read_text()
            for flag in ("--resume", "--force"):
                second = subprocess.run([*argv, flag], capture_output=True, text=True, timeout=60)
                assert second.returncode == 1, second.stderr
                assert "is being written by another `trayai batch` run" in second.stderr
                assert "Traceback" not in second.stderr
                assert out.read_text() == before  # --force did not truncate the running batch's file
            assert len(server.chat_requests()) == 1  # the refused runs sent nothing
        finally:
            release.set()
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
    ids = [r["id"] for r in records(out)]
    assert sorted(ids) == ["n0", "n1", "n2", "n3"]  # each exactly once


def test_the_output_lock_is_released_when_a_run_ends(server: ScriptedServer, tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", {"id": "a", "prompt": "p"})
    out = tmp_path / "out.jsonl"
    assert cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url)[0] == 0
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--force")
    assert code == 0, err
    assert [r["id"] for r in records(out)] == ["a"]


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty

    src = write_lines(tmp_path / "in.jsonl", *({"prompt": f"p{i}"} for i in range(6)))
    out = tmp_path / "out.jsonl"
    with ScriptedServer() as server:
        server.set_default(Reply(n_tokens=10, rate=60))
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "trayai.cli",
                "batch",
                str(src),
                "-o",
                str(out),
                "--endpoint",
                server.base_url,
                "--concurrency",
                "2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=follower,
            stdin=subprocess.DEVNULL,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is gone
                break
            if not data:
                break
            chunks.append(data)
        os.close(leader)
        assert proc.wait(30) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "\r[" in screen and "/s" in screen  # a redrawn bar with the rate…
    assert "ETA" in screen  # …and the time left while work remains
    assert "[########################] 6/6" in screen
    assert "6 answered, 0 failed" in screen


@pytest.mark.expect_log("trayai.core.net.transport", "dropped the request before answering")
def test_a_server_that_drops_kept_alive_connections_loses_no_line(
    server: ScriptedServer, tmp_path: Path
) -> None:
    """llama.cpp closes the connection after each streamed answer: 64 prompts, 64 answers."""
    server.drop_reused_connections = True
    src = write_lines(tmp_path / "in.jsonl", *({"id": f"p{i}", "prompt": f"question {i}"} for i in range(64)))
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--concurrency", "4")
    assert code == 0, err
    got = records(out)
    assert [r["id"] for r in got] == [f"p{i}" for i in range(64)]
    assert all(r["error"] is None and r["answer"] == "Hello from the scripted server." for r in got)
    assert server.dropped_unanswered > 0  # the fault really happened
    assert "64 answered, 0 failed" in err


def test_an_interrupted_answer_is_an_error_record_with_its_text_and_fails_the_run(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.replies_by_prompt = {
        "one": Reply(text="whole answer"),
        "two": Reply(text="half an", finish_reason=None),
    }
    src = write_lines(tmp_path / "in.jsonl", {"id": "a", "prompt": "one"}, {"id": "b", "prompt": "two"})
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(src), "-o", str(out), "--endpoint", server.base_url, "--concurrency", "1")
    assert code == 1
    first, second = records(out)
    assert first["error"] is None and first["finish_reason"] == "stop"
    assert second["error"]["code"] == "interrupted" and second["answer"] == "half an"
    assert "1 answered, 1 failed" in err
