"""Event-stream generation speed for the 92-day stream, per bundled persona.

Prints, from one run, events/s and words/s for generating, serialising and
parsing, and how the whole compares with the 10 s budget of issue 8.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from tasks.generator import GeneratorSettings, generate
from tasks.persona import BUILTIN, bundled_personas, load_persona
from tasks.stream import dumps, parse_stream, stats

BUDGET_S = 10.0


def main() -> None:
    print(
        f"{'persona':8} {'events':>7} {'words':>8} {'MB':>5} {'gen s':>6} {'write s':>7} "
        f"{'read s':>6} {'total s':>7} {'events/s':>9} {'budget':>7}"
    )
    for name in bundled_personas():
        persona = load_persona(BUILTIN / f"{name}.yaml")
        now = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo(persona.timezone))
        t0 = time.perf_counter()
        events = generate(persona, GeneratorSettings(days=92, seed=1), now)
        t1 = time.perf_counter()
        data = dumps(events)
        t2 = time.perf_counter()
        parse_stream(data.decode("utf-8"))
        t3 = time.perf_counter()
        s = stats(events)
        total = t2 - t0
        print(
            f"{name:8} {s.events:7d} {s.words:8d} {len(data) / 1e6:5.2f} {t1 - t0:6.2f} "
            f"{t2 - t1:7.2f} {t3 - t2:6.2f} {total:7.2f} {s.events / total:9.0f} "
            f"{BUDGET_S / total:6.0f}x"
        )
    print("total = generate + serialise; budget column = 10 s / total (higher is better)")


if __name__ == "__main__":
    main()
