#!/usr/bin/env bash
# Install what clawrig needs on a Debian machine, only what is missing:
# the system packages (adb, QEMU, debootstrap, fonts ...) and the Python
# package with its dev extra in ./.venv. Safe to run again; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  adb qemu-system-x86 qemu-utils debootstrap e2fsprogs sqlite3 openssh-client lz4
  fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji python3-venv
  chromium
  dovecot-imapd
)
[ "${CLAWRIG_EXTRA_APT:-}" ] && APT_PACKAGES+=(${CLAWRIG_EXTRA_APT})

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${APT_PACKAGES[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.clawrig-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing clawrig[dev] into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# Synapse (the world's chat server) in a venv of its own: its pins (cryptography, Twisted)
# are not ours, and the service host starts it as a child like Dovecot.
SYNAPSE_SPEC='matrix-synapse>=1.160,<2'
if [ "$(cat .venv-synapse/.clawrig-installed 2>/dev/null)" != "$SYNAPSE_SPEC" ]; then
  echo "setup: installing $SYNAPSE_SPEC into .venv-synapse"
  "$PYTHON" -m venv .venv-synapse
  .venv-synapse/bin/python -m pip install -q "$SYNAPSE_SPEC"
  echo "$SYNAPSE_SPEC" > .venv-synapse/.clawrig-installed
fi
