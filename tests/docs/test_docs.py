"""The docs cannot drift from the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.gendocs import TROUBLESHOOTING, render
from trayai.cli.parser import build_parser
from trayai.core.error_catalog import ErrorCode
from trayai.core.settings.config import Action, ModelSettings, Preset, Profile, Settings
from trayai.core.settings.fields import describe_fields

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
    for cls, prefix in (
        (Settings, ""),
        (Profile, "profiles[]."),
        (Preset, "presets[]."),
        (Action, "actions[]."),
        (ModelSettings, "model_settings[]."),
    ):
        for key, _, _ in describe_fields(cls):
            assert f"`{prefix}{key}`" in text, key


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- test-command -->\n```bash\n(.+)\n```", readme)
    assert block and "pytest" in block.group(1)
    assert "README.md" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


PUBLIC_API = {
    "trayai.core.net.client": [
        "Endpoint",
        "ModelClient",
        "StreamResult",
        "GenerationOptions",
        "ModelListing",
    ],
    "trayai.core.net.stream": ["ChatStream"],
    "trayai.core.status": ["probe", "ServerState", "StatusReport"],
    "trayai.core.errors": ["TrayaiError", "ErrorCode"],
    "trayai.core.net.urls": ["normalize_base_url", "NormalizedURL", "InvalidURLError"],
    "trayai.core.modelmatch": ["match_model", "ModelMatch"],
    "trayai.core.embedded": ["EmbeddedServer"],
    "trayai.core.settings.store": ["ConfigStore", "LoadedConfig"],
    "trayai.core.settings.secrets": ["SecretStore"],
    "trayai.core.chat.batch": ["run_batch", "read_items", "completed_ids", "BatchStats"],
    "trayai.core.bench": ["run_bench", "format_reports", "BenchReport"],
    "trayai.core.chat.history": ["HistoryStore"],
    "trayai.core.chat.history_search": ["SearchHit"],
    "trayai.core.chat.render": ["MarkdownRenderer", "Palette", "Rendered", "stable_prefix_end"],
    "trayai.core.chat.context": ["prepare", "Prepared"],
}


def test_the_documented_python_api_exists_with_the_documented_signatures() -> None:
    import importlib
    import inspect

    text = (ROOT / "docs" / "api-reference.md").read_text(encoding="utf-8")
    for module_name, names in PUBLIC_API.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert hasattr(module, name), f"{module_name}.{name} is documented but missing"
            assert f"`{name}" in text or f" {name}(" in text or f"{name}`" in text, f"{name} undocumented"
            obj = getattr(module, name)
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring to say why it exists"
    from trayai.core.bench import run_bench
    from trayai.core.chat.batch import run_batch

    batch_params = set(inspect.signature(run_batch).parameters)
    assert {"concurrency", "ordered", "skip_ids", "stream", "on_progress"} <= batch_params
    assert {"runs", "max_tokens", "levels", "progress"} <= set(inspect.signature(run_bench).parameters)
