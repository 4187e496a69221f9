"""Report generation for a long episode, and what a browser loads when it opens the page.

Records a synthetic 200-step episode through the real :class:`~rig.recorder.Recorder`
(screens rendered by the virtual phone's UI at 1080x2400, a UI tree per GUI step,
shell steps with output, baseline/final snapshots with 1,000 SMS rows and 120 files),
then times ``write_report`` side by side: warm (thumbnails made by the recorder,
as in a real run) and cold (an old record: the report makes every thumbnail).
Page weight on first load is the HTML plus the thumbnails the timeline shows; the
full screenshots load one step at a time.

    .venv/bin/python benchmarks/bench_report.py [--steps 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import sim_context

from rig.actions import Shell, Tap, Type
from rig.env import StepRecord
from rig.observation import Observation
from rig.recorder import Recorder, write_json
from rig.redact import Redactor
from rig.report.steps import make_thumbnail, thumb_name
from rig.viewer import write_report

APPS = ("com.android.contacts", "com.google.android.apps.messaging", "com.android.settings")


def screens(tmp: Path, n: int) -> list[tuple[bytes, str]]:
    """``n`` distinct (PNG, UI tree) pairs from the virtual phone's own renderer."""
    ctx = sim_context(tmp / "phone")
    ui = ctx.ui
    out = []
    for i in range(n):
        ui.start(APPS[i % len(APPS)])
        if i % 2:
            ui.swipe(540, 1800, 540, 600 + 40 * (i % 7))
        out.append((ui.screenshot_png(), ui.hierarchy_xml()))
    return out


def record(root: Path, steps: int, shots: list[tuple[bytes, str]]) -> Path:
    rec = Recorder(root, Redactor([]))
    rec.json("task.json", {"id": "bench", "title": "bench", "devices": {"phone": "android",
             "laptop": "linux"}, "instruction": "bench"})  # fmt: skip
    t = time.time()
    for i in range(steps):
        if i % 4 == 3:
            action = Shell(device="laptop", command=f"grep -rn 'rent' ~/notes | head -{i}")
            obs = Observation(device="laptop", action="shell", stdout="x\n" * 40, exit_code=0)
            rec.on_step(StepRecord(i, action, obs, t + i, 0.2, agent_message=f"step {i}"))
            continue
        png, xml = shots[i % len(shots)]
        action = Tap(device="phone", x=540, y=400) if i % 3 else Type(device="phone", text="hi")
        obs = Observation(device="phone", action=action.action, text="[0] Button 'OK'",
                          screenshot_png=png, screen_size=(1080, 2400))  # fmt: skip
        touch = (540, 400) if i % 3 else None
        rec.on_step(StepRecord(i, action, obs, t + i, 0.8, before_png=png, touch=touch,
                               ui_tree_xml=xml, usage={"input_tokens": 900 + i}))  # fmt: skip
    sms = {str(k): {"_id": str(k), "address": "+4930555", "type": "1", "read": "0",
                    "body": f"message {k} " * 4} for k in range(1000)}  # fmt: skip
    files = {f"/sdcard/Notes/n{k}.md": {"hash": str(k), "text": f"# note {k}\n" * 20}
             for k in range(120)}  # fmt: skip
    final_sms = {**sms, "1000": {**sms["999"], "_id": "1000", "type": "2", "body": "sent"}}
    final_files = {**files, "/sdcard/Notes/n3.md": {"hash": "x", "text": "# changed\n"}}
    dev = {"kind": "android", "roots": ["~"], "errors": {}, "app_db": {}}
    write_json(
        root / "state" / "baseline.json",
        {
            "devices": {
                "phone": {
                    **dev,
                    "providers": {"sms": {"uri": "content://sms", "rows": sms}},
                    "files": files,
                }
            }
        },
    )
    write_json(root / "state" / "final.json", {"devices": {"phone": {
        **dev, "providers": {"sms": {"uri": "content://sms", "rows": final_sms}},
        "files": final_files}}})  # fmt: skip
    rec.json("score.json", {"passed": False, "score": 0.0, "checks": [], "safety": []})
    rec.close("failed")
    return root


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = record(Path(tmp) / "ep", args.steps, screens(Path(tmp), 12))
        warm = timed(lambda: write_report(root), args.rounds)

        def cold() -> None:
            for thumb in (root / "steps").glob("*.thumb.jpg"):
                thumb.unlink()
            write_report(root)

        cold_s = timed(cold, args.rounds)
        one = sorted((root / "steps").glob("*-after.png"))[0]

        def thumb() -> None:
            one.with_name(thumb_name(one.name)).unlink(missing_ok=True)
            make_thumbnail(one)

        per_thumb = timed(thumb, 10)
        page = root / "report.html"
        html = page.read_text(encoding="utf-8")
        thumbs = sorted((root / "steps").glob("*.thumb.jpg"))
        first = page.stat().st_size + sum(p.stat().st_size for p in thumbs)
        full = page.stat().st_size + sum(p.stat().st_size for p in (root / "steps").glob("*.png"))
        shown = html.count('loading="lazy"')
        print(f"{args.steps} steps, {len(thumbs)} thumbnails ({shown} on the timeline)")
        print(f"write_report warm (recorder made thumbnails): {warm:.3f} s  (target < 2 s)")
        print(f"write_report cold (report makes thumbnails):  {cold_s:.3f} s")
        print(f"one thumbnail (the recorder's cost per GUI step): {per_thumb * 1000:.1f} ms")
        print(f"report.html {page.stat().st_size / 1024:.0f} KiB; first load with every "
              f"thumbnail {first / 1024:.0f} KiB; with full screenshots {full / 1024:.0f} KiB "
              f"(x{full / first:.1f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
