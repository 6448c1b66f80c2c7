"""`trayai bench` against scripted servers with known speeds: figures present and sane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.bench import percentile


def test_percentiles() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(v) for v in range(1, 21)], 0.95) == 19.0


def test_figures_match_the_servers_known_rate(server: ScriptedServer, tmp_path: Path) -> None:
    server.set_default(Reply(n_tokens=200, rate=250, first_token_delay=0.05, include_usage=False))
    code, out, err = cli(
        "bench",
        "--endpoint",
        server.base_url,
        "--runs",
        "3",
        "--max-tokens",
        "25",
        "--levels",
        "1,4",
        "--json",
    )
    assert code == 0, err
    (report,) = json.loads(out)
    seq = report["sequential"]
    assert 0.05 <= seq["ttft_p50_s"] < 0.5  # the scripted first-token delay, plus little
    assert 150 < seq["tokens_per_s_p50"] < 350  # paced at 250 tok/s
    assert seq["tokens_per_run"] == 25 and seq["errors"] == []
    one, four = report["concurrency"]
    assert one["streams"] == 1 and four["streams"] == 4 and four["errors"] == 0
    # The scripted server answers streams in parallel, so four streams give ~4x the throughput.
    assert four["aggregate_tokens_per_s"] > 2.5 * one["aggregate_tokens_per_s"]
    assert len(server.chat_requests()) == 1 + 3 + 1 + 4  # warm-up, runs, sweep
    assert "sequential run 3/3" in err


def test_side_by_side_table_and_chart(tmp_path: Path) -> None:
    with ScriptedServer() as fast, ScriptedServer() as slow:
        fast.set_default(Reply(n_tokens=100, rate=400, include_usage=False))
        slow.set_default(Reply(n_tokens=100, rate=100, include_usage=False))
        chart = tmp_path / "bench.png"
        urls = fast.base_url, slow.base_url
        code, out, err = cli(
            "bench",
            "--endpoint",
            urls[0],
            "--compare",
            urls[1],
            "--runs",
            "2",
            "--max-tokens",
            "15",
            "--levels",
            "1,2",
            "--plot",
            str(chart),
        )
        assert code == 0, err
    lines = out.splitlines()
    assert urls[0] in lines[0] and urls[1] in lines[0]
    speed = next(line for line in lines if line.startswith("generation speed p50"))
    fast_rate, slow_rate = (float(v.split()[0]) for v in speed.split("  ") if "tok/s" in v)
    assert fast_rate > 2 * slow_rate
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 2000


def test_unreachable_endpoint_fails_clearly() -> None:
    from tests.support.ports import free_port

    code, _, err = cli("bench", "--no-autostart", "--endpoint", f"http://127.0.0.1:{free_port()}/v1")
    assert code == 1 and "Nothing is listening" in err


def test_interrupted_answers_are_errors_and_fail_the_run(server: ScriptedServer) -> None:
    server.set_default(Reply(n_tokens=20, finish_reason=None))  # [DONE] with no finish_reason
    code, out, err = cli(
        "bench", "--endpoint", server.base_url, "--runs", "2", "--max-tokens", "50", "--levels", "2", "--json"
    )
    (report,) = json.loads(out)
    assert len(report["sequential"]["errors"]) == 2
    assert all("interrupted by the server" in e for e in report["sequential"]["errors"])
    assert report["concurrency"][0]["errors"] == 2
    assert code == 1 and "4 run(s) failed" in err


@pytest.mark.expect_log("trayai.core.net.transport", "dropped the request before answering")
def test_connections_the_server_drops_lose_no_run(server: ScriptedServer) -> None:
    server.drop_reused_connections = True
    server.set_default(Reply(n_tokens=10, include_usage=False))
    code, out, err = cli(
        "bench",
        "--endpoint",
        server.base_url,
        "--runs",
        "4",
        "--max-tokens",
        "10",
        "--levels",
        "1,4",
        "--json",
    )
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["sequential"]["errors"] == [] and [c["errors"] for c in report["concurrency"]] == [0, 0]
    assert server.dropped_unanswered > 0
