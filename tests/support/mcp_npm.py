"""The reference MCP servers from npm, installed once into a cache the tests reuse.

``@modelcontextprotocol/server-everything`` (protocol coverage: progress, large results, slow calls)
and ``@modelcontextprotocol/server-filesystem`` are pinned and installed with ``npm install`` under
``${XDG_CACHE_HOME:-~/.cache}/trayai-tests/mcp-npm-<key>/``, where ``key`` hashes the pins and the
Node major version. A stamp written last marks a finished install (a killed one is never taken for
one); installs run under a lock so two runs never install at once. About 10 s the first time, nothing
after::

    .venv/bin/python tests/support/mcp_npm.py          # install (or find) them; prints the folder
    .venv/bin/python tests/support/mcp_npm.py --check  # the cached folder, exit 1 if not installed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a program: make `tests` and `trayai` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.llama_router_build import cache_root
from trayai.core.filelock import exclusive_lock

PACKAGES = {
    "@modelcontextprotocol/server-everything": "2026.8.31",
    "@modelcontextprotocol/server-filesystem": "2026.8.31",
}
STAMP = "complete.json"
LOCK_WAIT = 10 * 60.0
INSTALL_TIMEOUT = 10 * 60.0


class NpmInstallError(RuntimeError):
    """npm is missing or its install failed; the message ends with npm's own output."""


@dataclass(frozen=True)
class NpmServers:
    """Where the installed servers' entry points are (run them with ``node``)."""

    root: Path

    @property
    def everything(self) -> list[str]:
        """argv of server-everything on stdio."""
        return [_node(), str(self._bin("server-everything")), "stdio"]

    def filesystem(self, *folders: Path) -> list[str]:
        """argv of server-filesystem allowed to read and write ``folders``."""
        return [_node(), str(self._bin("server-filesystem")), *map(str, folders)]

    def _bin(self, package: str) -> Path:
        folder = self.root / "node_modules" / "@modelcontextprotocol" / package
        manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        entry = manifest["bin"] if isinstance(manifest["bin"], str) else next(iter(manifest["bin"].values()))
        return folder / entry


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise NpmInstallError("node is not installed (resources/bootstrap.sh --test installs it)")
    return node


def _folder() -> Path:
    node_major = (
        subprocess.run([_node(), "--version"], capture_output=True, text=True, check=True, timeout=30)
        .stdout.strip()
        .split(".")[0]
    )
    key = hashlib.sha256(json.dumps([PACKAGES, node_major], sort_keys=True).encode()).hexdigest()[:12]
    return cache_root() / f"mcp-npm-{key}"


def cached() -> NpmServers | None:
    folder = _folder()
    return NpmServers(folder) if (folder / STAMP).is_file() else None


def ensure_installed() -> NpmServers:
    """The cached install, made first when there is none (under a lock)."""
    found = cached()
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise NpmInstallError("npm is not installed (resources/bootstrap.sh --test installs it)")
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder.with_suffix(".lock"), what="another npm install", wait=LOCK_WAIT):
        if (folder / STAMP).is_file():
            return NpmServers(folder)
        (folder / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(folder), *specs],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise NpmInstallError(f"npm install {' '.join(specs)} failed ({done.returncode}):\n{tail}")
        (folder / STAMP).write_text(json.dumps(PACKAGES), encoding="utf-8")
    return NpmServers(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="print the cached folder; exit 1 if none")
    args = parser.parse_args(argv)
    try:
        found = cached() if args.check else ensure_installed()
    except NpmInstallError as exc:
        print(exc, file=sys.stderr)
        return 1
    if found is None:
        return 1
    print(found.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
