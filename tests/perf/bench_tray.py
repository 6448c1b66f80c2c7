"""Benchmark: tray start-up, idle CPU and memory (prints JSON; figures, not pass/fail).

* startup — process start → tray icon shown (from the app's own log line), p50/max over warm runs,
  and whether openai/httpx2/pygments were already imported at that moment (they must not be);
* idle    — CPU used by the running tray over a window while it polls a server every 5 s;
* memory  — RSS of the tray-only process.

Runs on a real X server with a tray host (Xvfb + trayer + private D-Bus) when those are installed,
otherwise offscreen (then the status window stands in for the icon).
Usage: ``python tests/perf/bench_tray.py [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil

from tests.support.scripted_server import ScriptedServer
from tests.support.xvfb import start_xvfb
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore

SHOWN = re.compile(
    r"startup: tray shown ([\d.]+) s after process start \(tray=(\w+)\); modules loaded: (.*)$"
)


def desktop_env(stack: contextlib.ExitStack) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    if not all(shutil.which(t) for t in ("Xvfb", "trayer", "dbus-daemon")):
        env["QT_QPA_PLATFORM"] = "offscreen"
        return env, "offscreen (status window)"
    xvfb, number = start_xvfb()
    stack.callback(xvfb.kill)
    env.update({"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"})
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    env["DBUS_SESSION_BUS_ADDRESS"] = out[0]
    stack.callback(lambda: os.kill(int(out[1]), 15))
    trayer = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "24"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(trayer.kill)
    time.sleep(0.5)
    return env, "Xvfb + trayer (real tray icon)"


def launch_once(env: dict[str, str], paths: AppPaths) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    log = paths.log_dir / "trayai.log"
    before = log.read_text() if log.exists() else ""
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log.read_text()[len(before) :] if log.exists() else ""
        for line in text.splitlines():
            match = SHOWN.search(line)
            if match:
                modules = json.loads(
                    match.group(3).replace("'", '"').replace("False", "false").replace("True", "true")
                )
                return proc, {
                    "seconds": float(match.group(1)),
                    "tray": match.group(2) == "True",
                    "modules": modules,
                }
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("the tray did not start")


# The baseline: the least a PySide6 tray icon app does (an icon, a menu, a poll timer), so trayai's
# figures are ratios to what Qt itself costs on this machine, measured in the same run.
MINIMAL_TRAY = """
import sys, time, psutil
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon, QPixmap, QColor
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon
app = QApplication(sys.argv[:1])
pixmap = QPixmap(22, 22)
pixmap.fill(QColor("#2e7d32"))
tray = QSystemTrayIcon(QIcon(pixmap))
menu = QMenu()
menu.addAction("Quit").triggered.connect(app.quit)
tray.setContextMenu(menu)
tray.show()
print(f"shown {time.time() - psutil.Process().create_time():.3f}", flush=True)
QTimer.singleShot(int(float(sys.argv[1]) * 1000), app.quit)
app.exec()
"""


def minimal_tray(env: dict[str, str], runs: int, hold: float) -> dict[str, float]:
    """Icon-shown time (p50 of warm runs) and RSS after ``hold`` seconds of the minimal tray app."""
    shown: list[float] = []
    rss = 0.0
    for index in range(runs + 1):
        proc = subprocess.Popen(
            [sys.executable, "-c", MINIMAL_TRAY, str(hold if index == runs else 0.2)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if index == runs:
            time.sleep(max(0.0, hold - 0.5))
            rss = psutil.Process(proc.pid).memory_info().rss / 1e6
        elif index > 0:  # the first run warms the disk cache
            shown.append(float(line[1]))
        proc.wait(30)
    return {"icon_shown_s_p50": round(statistics.median(shown), 3), "rss_mb": round(rss, 1)}


def quit_app(env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    subprocess.run([sys.executable, "-m", "trayai.cli", "quit"], env=env, timeout=30, check=True)
    proc.wait(15)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer launches, 10 s idle window")
    args = parser.parse_args(argv)
    runs, idle_window = (3, 10.0) if args.quick else (6, 60.0)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp, ScriptedServer() as server:
        env, mode = desktop_env(stack)
        env["TRAYAI_CONFIG_DIR"], env["TRAYAI_DATA_DIR"] = f"{tmp}/config", f"{tmp}/data"
        for name in ("LOCAL_MODEL_BASE_URL", "LOCAL_MODEL_NAME", "LOCAL_API_KEY"):
            env.pop(name, None)
        paths = AppPaths.from_env(env)
        settings = Settings()
        settings.profiles = [Profile(name="Scripted", base_url=server.base_url)]
        settings.active_profile = "Scripted"
        ConfigStore(paths).save(settings)

        launches = []
        for _ in range(runs):
            proc, shown = launch_once(env, paths)
            launches.append(shown)
            quit_app(env, proc)
        warm = [s["seconds"] for s in launches[1:]]  # the first run warms the disk cache

        proc, _ = launch_once(env, paths)
        ps = psutil.Process(proc.pid)
        time.sleep(3.0)  # first poll done (openai imported), then idle
        rss_tray = ps.memory_info().rss
        polls_before = len(server.requests)
        cpu0, wall0 = sum(ps.cpu_times()[:2]), time.monotonic()
        time.sleep(idle_window)
        cpu, wall = sum(ps.cpu_times()[:2]) - cpu0, time.monotonic() - wall0
        polls = len(server.requests) - polls_before
        quit_app(env, proc)

        baseline = minimal_tray(env, runs, 3.5)

    figures = {
        "benchmark": "tray",
        "mode": mode,
        "baseline_minimal_pyside6_tray": baseline,
        "ratios_to_minimal": {
            "icon_shown": round(statistics.median(warm) / baseline["icon_shown_s_p50"], 2),
            "rss": round(rss_tray / 1e6 / baseline["rss_mb"], 2),
            "targets": "icon shown <= 2x, RSS <= 1.4x",
        },
        "startup": {
            "runs": runs,
            "icon_shown_s_p50_warm": round(statistics.median(warm), 3),
            "icon_shown_s_max_warm": round(max(warm), 3),
            "target_s": 1.0,
            "tray_icon_each_run": [s["tray"] for s in launches],
            "loaded_before_icon": launches[-1]["modules"],
        },
        "idle": {
            "window_s": round(wall, 1),
            "cpu_percent": round(100 * cpu / wall, 2),
            "polls_in_window": polls,
            "target_cpu_percent": "~0",
        },
        "memory": {"rss_tray_only_mb": round(rss_tray / 1e6, 1), "target_mb": 80},
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
