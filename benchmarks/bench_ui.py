"""The virtual phone's screen: frame build, hierarchy dump, and screenshot costs.

One run, one in-process phone UI (real filesystem, clock and SQLite providers
under a temporary directory), at 1080x2400 density 420. Prints median
milliseconds side by side:

* ``dump``: build the screen from app state and providers, lay it out, and
  write the ``uiautomator dump`` XML (what every tap and dump pays);
* ``png cold``: the above plus drawing and PNG encoding after the screen changed;
* ``png cached``: ``screencap -p`` when nothing changed (the frame cache hit);
* the PNG encoder at compress level 1 (used) against Pillow's default 6.

    .venv/bin/python benchmarks/bench_ui.py [--count 15]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import median_times, sim_context

from emulator.sim.contracts import PhoneContext
from emulator.sim.ui.system import UiSystem


def seed(ctx: PhoneContext, contacts: int, messages: int) -> None:
    p = ctx.providers
    for i in range(contacts):
        raw = p.insert("content://com.android.contacts/raw_contacts", {}).rsplit("/", 1)[1]
        p.insert(
            "content://com.android.contacts/data",
            {
                "raw_contact_id": int(raw),
                "mimetype": "vnd.android.cursor.item/name",
                "data1": f"Person {i:03d} 李",
            },
        )
        p.insert(
            "content://com.android.contacts/data",
            {
                "raw_contact_id": int(raw),
                "mimetype": "vnd.android.cursor.item/phone_v2",
                "data1": f"+1 555 {i:04d}",
            },
        )
    now = ctx.clock.now_ms()
    for i in range(messages):
        p.insert(
            "content://sms/inbox" if i % 2 else "content://sms/sent",
            {
                "address": "+1 555 0001",
                "body": f"message {i} with some words 🎉 and 中文",
                "date": now - (messages - i) * 60_000,
                "read": 1,
            },
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        ctx = sim_context(Path(tmp))
        ui = ctx.ui
        assert isinstance(ui, UiSystem)
        seed(ctx, contacts=200, messages=100)
        screens: list[tuple[str, Callable[[], None]]] = [
            ("launcher", lambda: ui.start("com.google.android.apps.nexuslauncher")),
            ("settings", lambda: ui.start("com.android.settings")),
            ("contacts x200", lambda: ui.start("com.android.contacts")),
            (
                "thread x100",
                lambda: (ui.start("com.google.android.apps.messaging"), ui.tap(540, 400)),
            ),
        ]
        print("median ms: wall (CPU of this process); other work on the machine inflates wall")
        print(f"{'screen':<16}{'dump':>16}{'png cold':>18}{'png cached':>18}")
        for name, go in screens:
            go()
            dump, dump_cpu = median_times(ui.hierarchy_xml, args.count, warmup=0)

            def cold() -> None:
                ui._frame_cache = ui._png_cache = None  # force a redraw and re-encode
                ui.screenshot_png()

            cold_ms, cold_cpu = median_times(cold, args.count, warmup=0)
            cached, cached_cpu = median_times(ui.screenshot_png, args.count, warmup=0)
            print(
                f"{name:<16}{dump:>9.1f} ({dump_cpu:5.1f}){cold_ms:>11.1f} ({cold_cpu:5.1f})"
                f"{cached:>11.1f} ({cached_cpu:5.1f})"
            )
        img = ui.screenshot()
        for level in (1, 6):
            size = [0]

            def encode(level: int = level, size: list[int] = size) -> None:
                buf = io.BytesIO()
                img.save(buf, "PNG", compress_level=level)
                size[0] = buf.tell()

            wall, cpu = median_times(encode, args.count, warmup=0)
            print(
                f"PNG encode alone, compress_level {level}: {wall:.1f} ({cpu:.1f}) ms, "
                f"{size[0] // 1024} KiB"
            )
        ctx.providers.close()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
