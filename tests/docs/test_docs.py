"""The docs cannot drift from the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.gendocs import TROUBLESHOOTING, render
from trayai.cli import build_parser
from trayai.core.config import BuiltinServerSettings, Profile, Settings, describe_fields
from trayai.core.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]


def test_troubleshooting_lists_every_error_code_as_generated() -> None:
    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m tests.support.gendocs"
    for code in ErrorCode:
        assert f"### `{code.value}`" in text


def test_api_reference_mentions_every_cli_command_and_config_key() -> None:
    text = (ROOT / "docs" / "api-reference.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands
    for name in commands:
        assert f"trayai {name}" in text, name
    for cls, prefix in ((Settings, ""), (Profile, "profiles[].")):
        for key, _, _ in describe_fields(cls):
            assert f"`{prefix}{key}`" in text, key
    assert BuiltinServerSettings


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- test-command -->\n```bash\n(.+)\n```", readme)
    assert block and "pytest" in block.group(1)
    assert "README.md" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
