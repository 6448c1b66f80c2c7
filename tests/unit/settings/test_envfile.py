"""The ``.env`` reader: values, quoting, comments, and where each value came from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trayai.core.settings.envfile import EnvValue, parse_env_text, read_env_file


def values(text: str) -> dict[str, str]:
    return {key: entry.value for key, entry in parse_env_text(text).items()}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("KEY=value", "value"),
        ("KEY = value", "value"),
        ("  KEY=value  ", "value"),
        ("export KEY=value", "value"),
        ("export   KEY=value", "value"),
        ("KEY=", ""),
        ("KEY=   ", ""),
        ('KEY=""', ""),
        ("KEY=''", ""),
        ("KEY=a=b=c", "a=b=c"),
        ("KEY=http://localhost:8080/v1?x=1&y=2", "http://localhost:8080/v1?x=1&y=2"),
        ('KEY="two words"', "two words"),
        ("KEY='two words'", "two words"),
        ('KEY="  padded  "', "  padded  "),
        ('KEY="line\\nbreak"', "line\nbreak"),
        ("KEY='line\\nbreak'", "line\\nbreak"),
        ("KEY=value # a comment", "value"),
        ("KEY=value\t# a tab before the comment", "value"),
        ("KEY=value    #comment", "value"),
        ("KEY=value#not-a-comment", "value#not-a-comment"),
        ("KEY=sk-abc#123", "sk-abc#123"),
        ('KEY="x # not a comment"', "x # not a comment"),
        ("KEY='x # not a comment'", "x # not a comment"),
        ('KEY="quoted" # comment after quotes', "quoted"),
        ("KEY='quoted' # comment after quotes", "quoted"),
        ("KEY=it's", "it's"),
        ("KEY=ünïcødé", "ünïcødé"),
    ],
)
def test_value_forms(line: str, expected: str) -> None:
    assert values(line) == {"KEY": expected}


def test_a_realistic_file() -> None:
    text = (
        "# trayai settings\n"
        "\n"
        "export LOCAL_MODEL_BASE_URL=http://localhost:12434/engines/v1\n"
        'LOCAL_MODEL_NAME="ai/smollm2"  # the small one\n'
        "   # indented comment\n"
        "this line is junk\n"
        "1BAD=starts with a digit\n"
        "BAD-NAME=dash\n"
        "=no key\n"
        "LOCAL_API_KEY='sk-local'\n"
    )
    parsed = parse_env_text(text, "/proj/.env")
    assert parsed == {
        "LOCAL_MODEL_BASE_URL": EnvValue("http://localhost:12434/engines/v1", "/proj/.env:3"),
        "LOCAL_MODEL_NAME": EnvValue("ai/smollm2", "/proj/.env:4"),
        "LOCAL_API_KEY": EnvValue("sk-local", "/proj/.env:10"),
    }


def test_the_last_assignment_wins_and_reports_its_line() -> None:
    parsed = parse_env_text("A=1\nA=2\n", "f")
    assert parsed == {"A": EnvValue("2", "f:2")}


def test_default_source_name_and_crlf_line_endings() -> None:
    parsed = parse_env_text("A=1\r\nB=2\r\n")
    assert parsed == {"A": EnvValue("1", ".env:1"), "B": EnvValue("2", ".env:2")}


def test_comment_only_and_empty_text() -> None:
    assert parse_env_text("") == {}
    assert parse_env_text("# only\n\n   \n# comments\n") == {}


def test_nothing_is_exported_into_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAYAI_TEST_ONLY_VAR", raising=False)
    parse_env_text("TRAYAI_TEST_ONLY_VAR=1")
    assert "TRAYAI_TEST_ONLY_VAR" not in os.environ


def test_read_env_file_reports_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\nLOCAL_MODEL_NAME=qwen\n", encoding="utf-8")
    assert read_env_file(path) == {"LOCAL_MODEL_NAME": EnvValue("qwen", f"{path}:2")}


def test_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "nope" / ".env") == {}


def test_a_directory_or_undecodable_file_is_empty(tmp_path: Path) -> None:
    directory = tmp_path / "dir.env"
    directory.mkdir()
    assert read_env_file(directory) == {}
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"A=\xff\xfe\xfd\n")
    assert read_env_file(binary) == {}


def test_a_byte_order_mark_does_not_hide_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes("\ufeffLOCAL_MODEL_NAME=ai/qwen3\r\nB=2\r\n".encode())
    parsed = read_env_file(path)
    assert parsed["LOCAL_MODEL_NAME"] == EnvValue("ai/qwen3", f"{path}:1")
    assert parsed["B"].value == "2"
