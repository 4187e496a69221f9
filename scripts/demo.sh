#!/usr/bin/env bash
# The quick start's main job: one cross-device task of the bundled suite, solved by its
# oracle on the embedded default world (the virtual phone + a real QEMU VM), scored by
# reading both devices afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
TASK=tasks/suite/text-lena-keybox-code
OUT=runs/demo
echo "demo: $TASK with the oracle agent (first run builds the VM image; later runs reuse it)"
status=0
.venv/bin/rig run "$TASK" --agent oracle --out "$OUT" --overwrite || status=$?
echo
if [ -f "$OUT/report.html" ]; then
  echo "demo: report: $OUT/report.html  (score: $OUT/score.json)"
else
  echo "demo: no report was written; see $OUT/ for what was recorded"
fi
exit "$status"
