"""A real Secret Service (gnome-keyring inside a private D-Bus session): store, use, delete a key —
and afterwards the key is nowhere in what trayai wrote (config dir, data dir, logs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_server import ScriptedServer
from trayai.core.paths import AppPaths

pytestmark = pytest.mark.integration
KEY = "sk-trayai-keychain-test-7c1f"


def test_key_round_trip_through_gnome_keyring(paths: AppPaths, tmp_path: Path) -> None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon", "secret-tool"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run `bash resources/bootstrap.sh --test`")
    with ScriptedServer(api_key=KEY) as server:
        script = tmp_path / "session.sh"
        script.write_text(f"""set -e
printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
T="{sys.executable} -m trayai.cli"
$T profile add Work --base-url {server.base_url} >/dev/null 2>&1
$T profile use Work >/dev/null 2>&1
echo "{KEY}" | $T key set Work
echo "lookup: $(secret-tool lookup service trayai username Work)"
$T --debug ask --no-autostart "Hello" > {tmp_path}/answer.txt
$T models --debug >/dev/null
$T status --debug > {tmp_path}/status.txt
$T key delete Work
echo "after delete: $(secret-tool lookup service trayai username Work || true)"
""")
        env = dict(os.environ)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        proc = subprocess.run(
            ["dbus-run-session", "--", "bash", str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"lookup: {KEY}" in proc.stdout
        assert "stored the key of 'Work' in Secret Service" in proc.stderr
        assert "after delete: \n" in proc.stdout + "\n"
        # The stored key was what trayai sent: the server demands it and answered.
        assert (tmp_path / "answer.txt").read_text().strip() == "Hello from the scripted server."
        assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)
        assert "keychain (Secret Service" in (tmp_path / "status.txt").read_text()
    assert KEY not in proc.stdout.replace(f"lookup: {KEY}", "") + proc.stderr  # never echoed, even at --debug
    for root in (paths.config_dir, paths.data_dir):
        for file in root.rglob("*"):
            if file.is_file():
                assert KEY.encode() not in file.read_bytes(), f"the key leaked into {file}"
    assert any(paths.config_dir.iterdir())  # there were files to search


def test_a_gui_session_with_a_key_from_the_settings_dialog_leaves_it_nowhere(
    paths: AppPaths, tmp_path: Path
) -> None:
    """Settings dialog → gnome-keyring → chat answer → quit; then grep everything trayai wrote."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon", "secret-tool"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run `bash resources/bootstrap.sh --test`")
    with ScriptedServer(api_key=KEY) as server:
        from trayai.core.settings.config import Profile, Settings
        from trayai.core.settings.store import ConfigStore

        settings = Settings()
        settings.profiles = [Profile(name="Work", base_url=server.base_url)]
        settings.active_profile = "Work"
        settings.builtin_server.autostart = False
        ConfigStore(paths).save(settings)
        script = tmp_path / "gui.sh"
        script.write_text(f"""set -e
printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
{sys.executable} -m tests.support.gui_session "{KEY}"
echo "lookup: $(secret-tool lookup service trayai username Work)"
""")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        proc = subprocess.run(
            ["dbus-run-session", "--", "bash", str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "key stored in: Secret Service" in proc.stdout
        assert "answer: Hello from the scripted server." in proc.stdout
        assert f"lookup: {KEY}" in proc.stdout
        chats = [r for r in server.requests if r.path.endswith("/chat/completions")]
        assert chats and all(r.headers.get("authorization") == f"Bearer {KEY}" for r in chats)
    assert (paths.data_dir / "history.sqlite3").exists() and any(paths.log_dir.iterdir())
    for root in (paths.config_dir, paths.data_dir, paths.log_dir):
        for file in root.rglob("*"):
            if file.is_file():
                assert KEY.encode() not in file.read_bytes(), f"the key leaked into {file}"
    assert KEY not in proc.stderr
