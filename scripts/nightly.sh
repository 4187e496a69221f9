#!/usr/bin/env bash
# The nightly run, for cron or CI: one line, one config.
#
#   scripts/nightly.sh nightly.toml            # run tonight's night (or resume the unfinished one)
#   scripts/nightly.sh nightly.toml --date 2026-03-16
#
# Runs from the repository (its .venv), logs to OUT/nightly-DATE.log beside the nights, and
# exits with rig's status: 0 nothing regressed, 1 a significant regression or a newly
# unsound task, 2 bad input (the config), 3 an infrastructure failure. A second start while
# a night is still running is refused at once (the night folder is locked), so an overlong
# night never runs twice.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 NIGHTLY.toml [--date YYYY-MM-DD]" >&2
  exit 2
fi
config=$(realpath "$1")
shift
cd "$(dirname "$0")/.."
RIG=${RIG:-.venv/bin/rig}
status=0
"$RIG" nightly run "$config" "$@" || status=$?
case $status in
  0) echo "nightly: no regression" ;;
  1) echo "nightly: REGRESSED (see the night's index.html)" ;;
  *) echo "nightly: failed with status $status" ;;
esac
exit "$status"
