"""resources/bootstrap.sh, the README's command 1: `trayai` by its name afterwards, and a quiet log.

Why: the README promises that after command 1 `trayai` works from a new shell, and that the set-up
says what it did in a few lines. The steps are run alone (the script defines them when sourced), with
HOME in a temporary folder: nothing here touches the real ~/.local/bin or installs anything.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "resources" / "bootstrap.sh"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def bootstrap(
    function: str, *args: str, home: Path, path: str = SYSTEM_PATH, system_bin: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``FUNCTION ARGS…`` from the sourced bootstrap, in a clean environment with this HOME and PATH.

    ``system_bin`` stands in for /usr/local/bin (default: a folder that does not exist, so nothing
    outside HOME is ever linked by a test, even as root)."""
    script = f'source "{BOOTSTRAP}"; LOG_DIR=$(mktemp -d); STEPS=0; {function} "$@"'
    system = system_bin if system_bin is not None else home.parent / "no-system-bin"
    return subprocess.run(
        ["bash", "-c", script, "bootstrap", *args],
        env={"HOME": str(home), "PATH": path, "LANG": "C.UTF-8", "SYSTEM_BIN": str(system)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def venv_trayai(tmp_path: Path) -> Path:
    """A stand-in for .venv/bin/trayai: a program that says who it is."""
    program = tmp_path / "venv" / "bin" / "trayai"
    program.parent.mkdir(parents=True)
    program.write_text('#!/bin/sh\necho "this checkout\'s trayai $*"\n')
    program.chmod(0o755)
    return program


def test_link_command_puts_trayai_on_path_by_its_name(tmp_path: Path, venv_trayai: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = bootstrap("link_command", str(venv_trayai), home=home)  # ~/.local/bin missing, not on PATH
    assert done.returncode == 0, done.stderr
    link = home / ".local" / "bin" / "trayai"
    assert link.is_symlink() and link.readlink() == venv_trayai
    lines = done.stderr.splitlines()
    assert lines[0] == f"[trayai setup] `trayai` command: linked ~/.local/bin/trayai → {venv_trayai}"
    assert lines[1].startswith("[trayai setup] ~/.local/bin is not on PATH yet; add it")
    added = lines[1].split(": ", 1)[1]
    assert added == "echo 'export PATH=\"$HOME/.local/bin:$PATH\"' >> ~/.bashrc"
    assert len(lines) == 2
    # The line it gives, then a new shell: `trayai` by its name.
    subprocess.run(["bash", "-c", added], env={"HOME": str(home), "PATH": SYSTEM_PATH}, check=True)
    new_shell = subprocess.run(
        ["bash", "-i", "-c", "trayai --version"],
        env={"HOME": str(home), "PATH": SYSTEM_PATH, "TERM": "dumb"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert new_shell.stdout == "this checkout's trayai --version\n", new_shell.stderr


def test_on_path_it_says_one_line_and_a_second_run_changes_nothing(tmp_path: Path, venv_trayai: Path) -> None:
    home = tmp_path / "home"
    path = f"{home}/.local/bin:{SYSTEM_PATH}"
    first = bootstrap("link_command", str(venv_trayai), home=home, path=path)
    again = bootstrap("link_command", str(venv_trayai), home=home, path=path)
    assert first.stderr == f"[trayai setup] `trayai` command: linked ~/.local/bin/trayai → {venv_trayai}\n"
    assert again.stderr == (
        f"[trayai setup] `trayai` command: ~/.local/bin/trayai → {venv_trayai} (already linked)\n"
    )
    assert (home / ".local" / "bin" / "trayai").readlink() == venv_trayai


def test_a_different_trayai_there_is_kept_and_said(tmp_path: Path, venv_trayai: Path) -> None:
    home = tmp_path / "home"
    theirs = home / ".local" / "bin" / "trayai"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("#!/bin/sh\necho pipx's trayai\n")
    done = bootstrap("link_command", str(venv_trayai), home=home)
    assert done.returncode == 0
    assert theirs.read_text() == "#!/bin/sh\necho pipx's trayai\n" and not theirs.is_symlink()
    assert "kept ~/.local/bin/trayai, a different trayai" in done.stderr
    assert f"ln -sf '{venv_trayai}' '{theirs}'" in done.stderr  # how to switch, if they want to


def test_a_broken_link_from_a_moved_checkout_is_replaced(tmp_path: Path, venv_trayai: Path) -> None:
    home = tmp_path / "home"
    link = home / ".local" / "bin" / "trayai"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "gone" / ".venv" / "bin" / "trayai")
    done = bootstrap("link_command", str(venv_trayai), home=home)
    assert link.readlink() == venv_trayai
    assert f"replacing a broken link to {tmp_path / 'gone'}" in done.stderr


def test_a_step_is_one_line_with_its_time_and_its_output_only_on_failure(tmp_path: Path) -> None:
    ok = bootstrap("step", "Installing things", "sh", "-c", "echo BuildBackendWarning: noise", home=tmp_path)
    assert ok.returncode == 0
    assert ok.stderr.startswith("[trayai setup] Installing things… ") and ok.stderr.endswith(" s\n")
    assert "noise" not in ok.stderr and ok.stderr.count("\n") == 1
    failed = bootstrap("step", "Installing things", "sh", "-c", "echo why it broke; exit 3", home=tmp_path)
    assert failed.returncode == 1
    assert "Installing things… FAILED (exit 3)" in failed.stderr
    assert "    why it broke" in failed.stderr  # the output, shown because it failed
    assert "ERROR: Installing things failed (its whole output: " in failed.stderr


def test_apt_is_quiet_and_never_asks(tmp_path: Path) -> None:
    """debconf's prompts and chatter come from a missing DEBIAN_FRONTEND (which sudo drops: it goes
    through `env`); apt's own output goes to the step's log. A stand-in apt-get records what it got."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    record = tmp_path / "apt-calls"
    apt = fake_bin / "apt-get"
    apt.write_text(
        f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {record}\necho "debconf: delaying package configuration"\n'
    )
    apt.chmod(0o755)
    done = bootstrap(
        "SUDO=; step",
        "Installing 2 system packages (apt)",
        "apt_install",
        "xvfb trayer",
        home=tmp_path,
        path=f"{fake_bin}:{SYSTEM_PATH}",
    )
    assert done.returncode == 0, done.stderr
    assert "debconf" not in done.stderr and done.stderr.count("\n") == 1
    calls = record.read_text().splitlines()
    assert calls[0] == "noninteractive -qq update"
    assert calls[1].startswith("noninteractive -qq install -y --no-install-recommends")
    assert calls[1].endswith(" xvfb trayer")


def test_the_readme_starts_with_the_set_up_and_calls_trayai_by_its_name() -> None:
    """A newcomer reads the top of the page: what it is, the two commands, how to start it, what the
    bundled model is good for — and every example runs `trayai`, which command 1 put on PATH."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    top = "\n".join(readme.splitlines()[:45])
    assert 'bash resources/bootstrap.sh && trayai ask "Hello! Who are you?"' in top
    assert "<!-- test-command -->" in top
    assert "**Start the app:** `trayai`" in top
    assert "SmolLM2-135M" in top and "often wrong" in top and "trayai profile add" in top
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert ".venv/bin/trayai" not in doc.read_text(encoding="utf-8"), doc.name


@pytest.mark.skipif(os.geteuid() != 0, reason="the system folder is linked only as root")
def test_as_root_trayai_also_works_in_the_same_shell(tmp_path: Path, venv_trayai: Path) -> None:
    """Root's ~/.local/bin is rarely on PATH: command 1's `&& trayai ask` must still find it."""
    home, system = tmp_path / "home", tmp_path / "usr-local-bin"
    home.mkdir()
    system.mkdir()
    path = f"{system}:{SYSTEM_PATH}"
    done = bootstrap("link_command", str(venv_trayai), home=home, path=path, system_bin=system)
    assert done.returncode == 0, done.stderr
    assert (system / "trayai").readlink() == venv_trayai
    assert done.stderr.splitlines()[-1] == (
        f"[trayai setup] `trayai` command: also linked {system}/trayai (root: on PATH in every shell, "
        "this one too)"
    )
    same_shell = subprocess.run(
        [
            "bash",
            "-c",
            f'source "{BOOTSTRAP}"; STEPS=0; link_command "$1" >/dev/null 2>&1; trayai ask hi',
            "x",
            str(venv_trayai),
        ],
        env={"HOME": str(home), "PATH": path, "SYSTEM_BIN": str(system)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert same_shell.stdout == "this checkout's trayai ask hi\n", same_shell.stderr
