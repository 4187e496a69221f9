#!/usr/bin/env bash
# The main job of the quick start. Until the episode runner lands this runs the
# most complete real thing available and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: the episode runner is not built yet; checking this machine's real parts instead"
.venv/bin/rig doctor
